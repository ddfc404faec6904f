"""nsscache's files cache on disk: ``passwd.cache``, ``group.cache`` and ``sshkey.cache``, plus our id index.

Line formats as nsscache's ``caches/files.py`` writes them: ``name:x:uid:gid:gecos:home:shell``,
``name:x:gid:member,member`` and ``name:key``. A user with several keys gets one line in the list
form ``name:['key1', 'key2']``, which nsscache writes for a list-valued entry and its
authorized-keys-command reads (one line per user, since the map and its index are keyed by name).
``aup-export.json`` is ours: SCIM id -> name, so ``compare_exports`` can tell a rename from a reuse.
"""

from __future__ import annotations

import ast
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulators.nsscache.source import GroupEntry, Maps, PasswdEntry

PASSWD, GROUP, SSHKEY, INDEX = "passwd.cache", "group.cache", "sshkey.cache", "aup-export.json"


@dataclass
class Export:
    """What one export holds, as read back from its directory."""

    passwd: dict[str, PasswdEntry] = field(default_factory=dict)
    group: dict[str, GroupEntry] = field(default_factory=dict)
    sshkey: dict[str, tuple[str, ...]] = field(default_factory=dict)
    user_ids: dict[str, str] | None = None  # SCIM id -> name, when the index file is there
    group_ids: dict[str, str] | None = None


def passwd_line(entry: PasswdEntry) -> str:
    return f"{entry.name}:x:{entry.uid}:{entry.gid}:{entry.gecos}:{entry.home}:{entry.shell}"


def group_line(entry: GroupEntry) -> str:
    return f"{entry.name}:x:{entry.gid}:{','.join(entry.members)}"


def sshkey_line(name: str, keys: tuple[str, ...]) -> str:
    return f"{name}:{keys[0]}" if len(keys) == 1 else f"{name}:{list(keys)!r}"


def write_export(maps: Maps, out: Path, *, source: str = "") -> None:
    """Write the three caches and the index; each file is replaced whole (write, then rename)."""
    out.mkdir(parents=True, exist_ok=True)
    files = {
        PASSWD: [passwd_line(e) for e in maps.passwd.values()],
        GROUP: [group_line(e) for e in maps.group.values()],
        SSHKEY: [sshkey_line(name, keys) for name, keys in maps.sshkey.items()],
    }
    index = {"source": source, "users": maps.user_ids, "groups": maps.group_ids, "warnings": maps.warnings}
    for name, lines in files.items():
        _replace(out / name, "".join(f"{line}\n" for line in lines))
    _replace(out / INDEX, json.dumps(index, indent=2, ensure_ascii=False) + "\n")


def _replace(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_export(directory: Path) -> Export:
    """Parse an export directory; ValueError names the file and line that does not parse."""
    export = Export()
    for name in (PASSWD, GROUP, SSHKEY):
        if not (directory / name).is_file():
            raise ValueError(f"{directory} has no {name}: not an nsscache files export")
    for number, line in _lines(directory / PASSWD):
        fields = line.split(":")
        if len(fields) != 7:
            raise ValueError(f"{directory / PASSWD}:{number}: expected 7 ':'-separated fields, got {len(fields)}")
        name, _, uid, gid, gecos, home, shell = fields
        uid_number, gid_number = _number(uid, PASSWD, number), _number(gid, PASSWD, number)
        export.passwd[name] = PasswdEntry(name, uid_number, gid_number, gecos, home, shell)
    for number, line in _lines(directory / GROUP):
        fields = line.split(":")
        if len(fields) != 4:
            raise ValueError(f"{directory / GROUP}:{number}: expected 4 ':'-separated fields, got {len(fields)}")
        members = tuple(m for m in fields[3].split(",") if m)
        export.group[fields[0]] = GroupEntry(fields[0], _number(fields[2], GROUP, number), members)
    for number, line in _lines(directory / SSHKEY):
        name, _, rest = line.partition(":")
        export.sshkey[name] = _keys(rest, f"{directory / SSHKEY}:{number}")
    index = directory / INDEX
    if index.is_file():
        data: dict[str, Any] = json.loads(index.read_text(encoding="utf-8"))
        export.user_ids = {str(k): str(v) for k, v in (data.get("users") or {}).items()}
        export.group_ids = {str(k): str(v) for k, v in (data.get("groups") or {}).items()}
    return export


def _lines(path: Path) -> list[tuple[int, str]]:
    text = path.read_text(encoding="utf-8")
    return [(i, line) for i, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _number(text: str, file: str, line: int) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{file}:{line}: {text!r} is not a number") from None


def _keys(text: str, where: str) -> tuple[str, ...]:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            value = ast.literal_eval(text)  # the list form; literal_eval evaluates no code
        except (ValueError, SyntaxError):
            raise ValueError(f"{where}: the key list does not parse") from None
        return tuple(str(key).strip() for key in value)
    return (text,)
