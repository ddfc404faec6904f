"""How an indexed filter lookup scales: median latency of `userName eq`, `externalId eq` and
`emails.value eq` lookups through the in-process app, at several directory sizes.

Run: python bench/lookup_scale.py [--sizes 1000,100000] [--lookups 300]
Prints one line per size and filter; figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from aup_server.app import create_app
from aup_server.auth import issue_token
from aup_server.store import SqliteStore


def populate(store: SqliteStore, n: int) -> None:
    with store.write("default") as session:
        for i in range(n):
            session.insert(
                "User",
                {
                    "userName": f"user{i:07d}@example.com",
                    "externalId": f"00u{i:07d}",
                    "name": {"givenName": "Given", "familyName": f"Family{i}"},
                    "emails": [{"value": f"user{i:07d}@example.com", "type": "work", "primary": True}],
                    "active": True,
                },
                password=None,
            )


def measure(client: httpx.Client, flt: str, lookups: int) -> float:
    samples = []
    for _ in range(lookups):
        start = time.perf_counter()
        resp = client.get("/Users", params={"filter": flt})
        samples.append(time.perf_counter() - start)
        assert resp.json()["totalResults"] == 1, resp.text
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,100000")
    parser.add_argument("--lookups", type=int, default=300)
    args = parser.parse_args()
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            store = SqliteStore(str(Path(tmp) / "bench.db"))
            t0 = time.perf_counter()
            populate(store, n)
            fill = time.perf_counter() - t0
            secret = issue_token(store, "bench")
            app = create_app(store=store)
            target = n // 2
            with httpx.Client(
                transport=httpx.WSGITransport(app=app),
                base_url="http://bench/scim/v2",
                headers={"Authorization": f"Bearer {secret}"},
            ) as client:
                for label, flt in (
                    ("userName eq", f'userName eq "USER{target:07d}@example.com"'),
                    ("externalId eq", f'externalId eq "00u{target:07d}"'),
                    ("emails.value eq", f'emails[type eq "work"].value eq "user{target:07d}@example.com"'),
                ):
                    ms = measure(client, flt, args.lookups)
                    print(f"users={n:>7} filter={label:<16} median={ms:6.2f} ms  (filled in {fill:.1f} s)")
            store.close()


if __name__ == "__main__":
    main()
