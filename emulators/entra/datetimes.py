"""Dates in Entra's expression functions (CDate, DateAdd, DateDiff, DateFromNum, FormatDateTime, Now,
NumFromDate; docs/entra-idp.md §9a): parsing the forms Microsoft's examples use, Entra's output form
``M/d/yyyy h:mm:ss tt`` in UTC, .NET custom format strings, and Active Directory's FILETIME numbers.

Inferred where Microsoft is silent: a date with no offset is UTC (the service runs in UTC); a .NET format
token this module does not know is copied as a literal.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta, timezone

_FILETIME_EPOCH = datetime(1601, 1, 1, tzinfo=UTC)  # AD dates: 100 ns ticks since 1601-01-01 UTC
_ISO = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2})(?:\.(?P<f>\d{1,7}))?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)
_US = re.compile(
    r"^(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})"
    r"(?:\s+(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s*(?P<tt>AM|PM)?)?$",
    re.IGNORECASE,
)


class DateError(ValueError):
    """A value that is not a date in a form Entra reads."""


def _offset(text: str | None) -> timezone:
    if not text or text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def parse(text: str) -> datetime:
    """A date from ISO 8601 (``2020-03-16-07:00``, ``2009-06-15T01:45:30-07:00``, ``2021-08-24``) or Entra's own
    ``M/d/yyyy h:mm:ss tt``, as an aware UTC datetime."""
    value = text.strip()
    if match := _ISO.match(value):
        fraction = int((match["f"] or "0").ljust(6, "0")[:6])
        moment = datetime(
            int(match["y"]), int(match["mo"]), int(match["d"]), int(match["h"] or 0), int(match["mi"] or 0),
            int(match["s"] or 0), fraction, tzinfo=_offset(match["tz"]),
        )  # fmt: skip
        return moment.astimezone(UTC)
    if match := _US.match(value):
        hour = int(match["h"] or 0)
        if match["tt"]:
            hour = hour % 12 + (12 if match["tt"].upper() == "PM" else 0)
        return datetime(
            int(match["y"]), int(match["mo"]), int(match["d"]), hour, int(match["mi"] or 0), int(match["s"] or 0),
            tzinfo=UTC,
        )  # fmt: skip
    raise DateError(f"{text!r} is not a date Entra reads (ISO 8601, or M/d/yyyy h:mm:ss tt)")


def render(moment: datetime) -> str:
    """Entra's DateTime text: ``M/d/yyyy h:mm:ss tt`` in UTC (Microsoft: CDate, Now, DateAdd)."""
    utc = moment.astimezone(UTC)
    hour = utc.hour % 12 or 12
    return f"{utc.month}/{utc.day}/{utc.year} {hour}:{utc.minute:02}:{utc.second:02} {'PM' if utc.hour >= 12 else 'AM'}"


def add(interval: str, amount: int, moment: datetime) -> datetime:
    """DateAdd's intervals: yyyy, m (months, the day clamped to the month's end as .NET does), d, ww, h, n, s."""
    unit = interval.strip().lower()
    if unit in ("yyyy", "m"):
        months = moment.month - 1 + amount * (12 if unit == "yyyy" else 1)
        year, month = moment.year + months // 12, months % 12 + 1
        day = min(moment.day, calendar.monthrange(year, month)[1])
        return moment.replace(year=year, month=month, day=day)
    steps = {"d": timedelta(days=1), "ww": timedelta(weeks=1), "h": timedelta(hours=1),
             "n": timedelta(minutes=1), "s": timedelta(seconds=1)}  # fmt: skip
    if unit not in steps:
        raise DateError(f"interval {interval!r}: use yyyy, m, d, ww, h, n or s")
    return moment + amount * steps[unit]


def difference(interval: str, first: datetime, second: datetime) -> int:
    """DateDiff as VBA counts it: the number of interval boundaries crossed from ``first`` to ``second`` (calendar
    years, months, days; weeks as the Sundays crossed; hours, minutes and seconds as whole units started)."""
    unit = interval.strip().lower()
    a, b = first.astimezone(UTC), second.astimezone(UTC)
    if unit == "yyyy":
        return b.year - a.year
    if unit == "m":
        return (b.year - a.year) * 12 + b.month - a.month
    if unit == "d":
        return (b.date() - a.date()).days
    if unit == "ww":  # weeks start on Sunday: ordinal 7 (0001-01-07) is a Sunday
        return (b.date().toordinal() - 7) // 7 - (a.date().toordinal() - 7) // 7
    seconds = {"h": 3600, "n": 60, "s": 1}.get(unit)
    if seconds is None:
        raise DateError(f"interval {interval!r}: use yyyy, m, d, ww, h, n or s")
    return int(b.timestamp() // seconds - a.timestamp() // seconds)


def from_filetime(ticks: int) -> datetime:
    return _FILETIME_EPOCH + timedelta(microseconds=ticks // 10)


def to_filetime(moment: datetime) -> int:
    delta = moment.astimezone(UTC) - _FILETIME_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 10_000_000 + delta.microseconds * 10


# -- .NET custom date and time format strings -----------------------------------------------------------------

_TOKENS = ("yyyy", "yy", "MMMM", "MMM", "MM", "M", "dd", "d", "HH", "H", "hh", "h", "mm", "m", "ss", "s",
           "fffffff", "ffffff", "fffff", "ffff", "fff", "ff", "f", "tt", "zzz", "zz", "K")  # fmt: skip
_PATTERNS = {
    "yyyy": r"(?P<y>\d{4})", "yy": r"(?P<yy>\d{2})", "MMMM": r"(?P<mon>[A-Za-z]+)", "MMM": r"(?P<mon>[A-Za-z]{3})",
    "MM": r"(?P<mo>\d{2})", "M": r"(?P<mo>\d{1,2})", "dd": r"(?P<d>\d{2})", "d": r"(?P<d>\d{1,2})",
    "HH": r"(?P<H>\d{2})", "H": r"(?P<H>\d{1,2})", "hh": r"(?P<h>\d{2})", "h": r"(?P<h>\d{1,2})",
    "mm": r"(?P<mi>\d{2})", "m": r"(?P<mi>\d{1,2})", "ss": r"(?P<s>\d{2})", "s": r"(?P<s>\d{1,2})",
    "tt": r"(?P<tt>AM|PM|am|pm)", "zzz": r"(?P<tz>[+-]\d{2}:\d{2})", "zz": r"(?P<tz>[+-]\d{2})",
    "K": r"(?P<tz>Z|[+-]\d{2}:\d{2})?",
}  # fmt: skip


def _tokens(fmt: str) -> list[tuple[bool, str]]:
    """(is a format token, text) pairs; quoted text and backslash escapes are literals."""
    out: list[tuple[bool, str]] = []
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch in "'\"":
            end = fmt.find(ch, i + 1)
            end = len(fmt) if end == -1 else end
            out.append((False, fmt[i + 1 : end]))
            i = end + 1
        elif ch == "\\" and i + 1 < len(fmt):
            out.append((False, fmt[i + 1]))
            i += 2
        else:
            token = next((t for t in _TOKENS if fmt.startswith(t, i)), None)
            out.append((token is not None, token or ch))
            i += len(token or ch)
    return out


def parse_exact(text: str, fmt: str) -> datetime:
    """``text`` read with a .NET custom format (FormatDateTime's inputFormat)."""
    parts: list[str] = []
    for is_token, piece in _tokens(fmt):
        if is_token and piece.startswith("f"):
            parts.append(rf"(?P<f>\d{{{len(piece)}}})")
        elif is_token:
            parts.append(_PATTERNS[piece])
        else:
            parts.append(re.escape(piece))
    match = re.fullmatch("".join(parts), text.strip())
    if match is None:
        raise DateError(f"{text!r} does not have the format {fmt!r}")
    found = match.groupdict()
    year = int(found["y"]) if found.get("y") else 2000 + int(found["yy"]) if found.get("yy") else 1
    month = int(found["mo"]) if found.get("mo") else _month(found["mon"]) if found.get("mon") else 1
    hour = int(found.get("H") or found.get("h") or 0)
    if found.get("tt"):
        hour = hour % 12 + (12 if found["tt"].upper() == "PM" else 0)
    fraction = int((found.get("f") or "0").ljust(6, "0")[:6])
    tz = found.get("tz")
    zone = _offset(tz + ":00" if tz and len(tz) == 3 else tz)
    moment = datetime(year, month, int(found.get("d") or 1), hour, int(found.get("mi") or 0),
                      int(found.get("s") or 0), fraction, tzinfo=zone)  # fmt: skip
    return moment.astimezone(UTC)


def _month(name: str) -> int:
    for number in range(1, 13):
        if calendar.month_name[number].lower().startswith(name.lower()):
            return number
    raise DateError(f"{name!r} is not a month name")


def format_exact(moment: datetime, fmt: str) -> str:
    """``moment`` (UTC) written with a .NET custom format (FormatDateTime's outputFormat)."""
    m = moment.astimezone(UTC)
    values = {
        "yyyy": f"{m.year:04}", "yy": f"{m.year % 100:02}", "MMMM": calendar.month_name[m.month],
        "MMM": calendar.month_abbr[m.month], "MM": f"{m.month:02}", "M": str(m.month), "dd": f"{m.day:02}",
        "d": str(m.day), "HH": f"{m.hour:02}", "H": str(m.hour), "hh": f"{m.hour % 12 or 12:02}",
        "h": str(m.hour % 12 or 12), "mm": f"{m.minute:02}", "m": str(m.minute), "ss": f"{m.second:02}",
        "s": str(m.second), "tt": "PM" if m.hour >= 12 else "AM", "zzz": "+00:00", "zz": "+00", "K": "Z",
    }  # fmt: skip
    out = []
    for is_token, piece in _tokens(fmt):
        if is_token and piece.startswith("f"):
            out.append(f"{m.microsecond:06}0"[: len(piece)])
        else:
            out.append(values[piece] if is_token else piece)
    return "".join(out)


def now() -> datetime:
    return datetime.now(UTC)
