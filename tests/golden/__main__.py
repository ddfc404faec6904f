"""Regenerate the golden cassettes: ``python -m tests.golden regenerate [NAME ...]``.

Run it only when an emulator's traffic is meant to change, and review the diff of the .jsonl files.
"""

from __future__ import annotations

import sys

from scimcore.wire import write_cassette
from tests.golden.flows import FLOWS


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "regenerate":
        print("usage: python -m tests.golden regenerate [NAME ...]", file=sys.stderr)
        return 2
    wanted = set(argv[1:])
    unknown = wanted - {flow.name for flow in FLOWS}
    if unknown:
        print(f"unknown flow(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    for flow in FLOWS:
        if not wanted or flow.name in wanted:
            count = write_cassette(flow.path, flow.run())
            print(f"{flow.path.name}: {count} exchange(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
