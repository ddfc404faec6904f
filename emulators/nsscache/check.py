"""Compare two exports (say, before and after a sync): a uid or gid that changed or was reused is an error.

A cluster keys file ownership on numbers, so a number that moves strands or exposes files
(docs/domain.md §4: "changing ids is not supported", "never reuse a uid"). With both
exports' id index a rename is told from a reuse exactly; without it only by name.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

from emulators.nsscache.cache import Export

Severity = Literal["error", "note"]


@dataclass(frozen=True)
class Finding:
    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


def compare_exports(before: Export, after: Export) -> list[Finding]:
    """Every uid/gid change and reuse (errors) and every rename, addition and removal (notes)."""
    findings: list[Finding] = []
    for export, label in ((before, "before"), (after, "after")):
        findings += _duplicates(export, label)
    user_numbers = (
        {name: entry.uid for name, entry in before.passwd.items()},
        {name: entry.uid for name, entry in after.passwd.items()},
    )
    group_numbers = (
        {name: entry.gid for name, entry in before.group.items()},
        {name: entry.gid for name, entry in after.group.items()},
    )
    findings += _compare("user", "uid", *user_numbers, before.user_ids, after.user_ids)
    findings += _compare("group", "gid", *group_numbers, before.group_ids, after.group_ids)
    for name, entry in after.passwd.items():
        old = before.passwd.get(name)
        if old is not None and old.uid == entry.uid and old.gid != entry.gid:
            findings.append(Finding("error", f"user {name}: primary gid changed {old.gid} -> {entry.gid}"))
    for name in sorted(set(before.sshkey) - set(after.sshkey)):
        if name in after.passwd:
            findings.append(Finding("note", f"user {name}: no SSH keys any more (deactivated or keys removed)"))
    return findings


def _duplicates(export: Export, label: str) -> list[Finding]:
    found = []
    for kind, what, numbers in (
        ("user", "uid", Counter(e.uid for e in export.passwd.values())),
        ("group", "gid", Counter(e.gid for e in export.group.values())),
    ):
        for number, count in sorted(numbers.items()):
            if count > 1:
                found.append(Finding("error", f"{label}: {count} {kind}s share {what} {number}"))
    return found


def _compare(
    kind: str,
    what: str,
    before: dict[str, int],
    after: dict[str, int],
    before_ids: dict[str, str] | None,
    after_ids: dict[str, str] | None,
) -> list[Finding]:
    if before_ids is not None and after_ids is not None:
        return _compare_by_id(kind, what, before, after, before_ids, after_ids)
    findings = []
    for name in sorted(set(before) & set(after)):
        if before[name] != after[name]:
            findings.append(Finding("error", f"{kind} {name}: {what} changed {before[name]} -> {after[name]}"))
    owner_before = {number: name for name, number in before.items()}
    for name in sorted(set(after) - set(before)):
        previous = owner_before.get(after[name])
        if previous is not None and previous not in after:
            findings.append(
                Finding(
                    "note",
                    f"{kind} {previous} -> {name} keeps {what} {after[name]}: a rename, or a reuse of a deleted "
                    f"{kind}'s {what} (only the id index of both exports can tell)",
                )
            )
    return findings


def _compare_by_id(
    kind: str,
    what: str,
    before: dict[str, int],
    after: dict[str, int],
    before_ids: dict[str, str],
    after_ids: dict[str, str],
) -> list[Finding]:
    findings = []
    number_before = {rid: before[name] for rid, name in before_ids.items() if name in before}
    number_after = {rid: after[name] for rid, name in after_ids.items() if name in after}
    owner_before = {number: rid for rid, number in number_before.items()}
    for rid, number in sorted(number_after.items(), key=lambda item: item[1]):
        name = after_ids[rid]
        if rid in number_before:
            old_name = before_ids[rid]
            if number_before[rid] != number:
                findings.append(
                    Finding("error", f"{kind} {name} ({rid}): {what} changed {number_before[rid]} -> {number}")
                )
            if old_name != name:
                findings.append(Finding("note", f"{kind} {old_name} renamed to {name}, {what} {number} kept"))
        elif number in owner_before:
            previous = before_ids[owner_before[number]]
            findings.append(
                Finding("error", f"{kind} {name} ({rid}) got {what} {number}, which {kind} {previous} had: reused")
            )
        else:
            findings.append(Finding("note", f"{kind} {name} added with {what} {number}"))
    for rid in sorted(set(number_before) - set(number_after)):
        findings.append(Finding("note", f"{kind} {before_ids[rid]} removed; {what} {number_before[rid]} stays retired"))
    return findings
