"""The Time functions of Okta's Expression Language (docs/okta-idp.md §9a): ISO 8601 in the RFC 3339 form Okta's
examples show (``2015-07-31T17:18:37.979Z``), Windows (100-ns ticks since 1601) and Unix (seconds) timestamps, and
Joda-Time patterns (``YYYY-MM-dd HH:mm:ss``) for the string conversions.

Inferred where Okta is silent: a Unix timestamp is in seconds; old-style zone ids resolve as Joda resolves them
(``EST`` is America/New_York, which is what gives the reference's ``-04:00`` in July).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)
_OLD_IDS = {"EST": "America/New_York", "CST": "America/Chicago", "MST": "America/Denver", "PST": "America/Los_Angeles",
            "HST": "Pacific/Honolulu", "UTC": "UTC", "GMT": "UTC"}  # fmt: skip


class TimeError(ValueError):
    """A time or zone Okta would not read."""


def zone(name: str | None) -> tzinfo:
    if not name:
        return UTC
    try:
        return ZoneInfo(_OLD_IDS.get(name, name))
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeError(f"unknown time zone {name!r}") from None


def iso(moment: datetime) -> str:
    """RFC 3339 with milliseconds; ``Z`` in UTC, else the offset (Okta's Time.now examples)."""
    text = moment.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if moment.utcoffset() == timedelta(0) else text


def parse_iso(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise TimeError(f"{text!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def from_windows(text: str) -> str:
    return iso(_FILETIME_EPOCH + timedelta(microseconds=_integer(text) // 10))


def to_windows(text: str) -> str:
    delta = parse_iso(text).astimezone(UTC) - _FILETIME_EPOCH
    return str((delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10)


def from_unix(text: str) -> str:
    return iso(datetime.fromtimestamp(_integer(text), UTC))


def to_unix(text: str) -> str:
    return str(int(parse_iso(text).timestamp()))


def _integer(text: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise TimeError(f"{text!r} is not a timestamp") from None


# -- Joda-Time patterns ----------------------------------------------------------------------------------------

_TOKEN = re.compile(r"'[^']*'|Y+|y+|M+|d+|H+|h+|m+|s+|S+|a|Z+|[^A-Za-z']+|[A-Za-z]")
_READ = {"yyyy": r"(?P<y>\d{4})", "YYYY": r"(?P<y>\d{4})", "yy": r"(?P<yy>\d{2})", "YY": r"(?P<yy>\d{2})",
         "MM": r"(?P<mo>\d{2})", "M": r"(?P<mo>\d{1,2})", "dd": r"(?P<d>\d{2})", "d": r"(?P<d>\d{1,2})",
         "HH": r"(?P<H>\d{2})", "H": r"(?P<H>\d{1,2})", "hh": r"(?P<h>\d{2})", "h": r"(?P<h>\d{1,2})",
         "mm": r"(?P<mi>\d{2})", "m": r"(?P<mi>\d{1,2})", "ss": r"(?P<s>\d{2})", "s": r"(?P<s>\d{1,2})",
         "SSS": r"(?P<f>\d{3})", "a": r"(?P<a>AM|PM|am|pm)", "Z": r"(?P<z>[+-]\d{4}|Z)",
         "ZZ": r"(?P<z>[+-]\d{2}:\d{2}|Z)"}  # fmt: skip


def _pieces(pattern: str) -> list[tuple[bool, str]]:
    out = []
    for token in _TOKEN.findall(pattern):
        if token.startswith("'"):
            out.append((False, token[1:-1] or "'"))
        else:
            out.append((token in _READ, token))
    return out


def format_joda(moment: datetime, pattern: str) -> str:
    values = {"yyyy": f"{moment.year:04}", "YYYY": f"{moment.year:04}", "yy": f"{moment.year % 100:02}",
              "YY": f"{moment.year % 100:02}", "MM": f"{moment.month:02}", "M": str(moment.month),
              "dd": f"{moment.day:02}", "d": str(moment.day), "HH": f"{moment.hour:02}", "H": str(moment.hour),
              "hh": f"{moment.hour % 12 or 12:02}", "h": str(moment.hour % 12 or 12), "mm": f"{moment.minute:02}",
              "m": str(moment.minute), "ss": f"{moment.second:02}", "s": str(moment.second),
              "SSS": f"{moment.microsecond // 1000:03}", "a": "PM" if moment.hour >= 12 else "AM"}  # fmt: skip
    offset = moment.utcoffset() or timedelta(0)
    sign, minutes = ("-" if offset < timedelta(0) else "+"), abs(int(offset.total_seconds())) // 60
    values["Z"] = f"{sign}{minutes // 60:02}{minutes % 60:02}"
    values["ZZ"] = f"{sign}{minutes // 60:02}:{minutes % 60:02}"
    return "".join(values[piece] if known else piece for known, piece in _pieces(pattern))


def parse_joda(text: str, pattern: str) -> datetime:
    regex = "".join(_READ[piece] if known else re.escape(piece) for known, piece in _pieces(pattern))
    found = re.fullmatch(regex, text.strip())
    if found is None:
        raise TimeError(f"{text!r} does not have the pattern {pattern!r}")
    parts = found.groupdict()
    year = int(parts["y"]) if parts.get("y") else 2000 + int(parts["yy"]) if parts.get("yy") else 1970
    hour = int(parts.get("H") or parts.get("h") or 0)
    if parts.get("a"):
        hour = hour % 12 + (12 if parts["a"].upper() == "PM" else 0)
    zone_text = parts.get("z")
    tz: tzinfo = UTC
    if zone_text and zone_text != "Z":
        digits = zone_text.replace(":", "")
        tz = timezone((-1 if digits[0] == "-" else 1) * timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5])))
    return datetime(year, int(parts.get("mo") or 1), int(parts.get("d") or 1), hour, int(parts.get("mi") or 0),
                    int(parts.get("s") or 0), int(parts.get("f") or 0) * 1000, tzinfo=tz)  # fmt: skip
