"""The revisit policy on a large portal: is an edit to an old document seen within the stated period, and what
does a cycle cost? Also the peak RSS of the large first crawl.

A ``benchmarks.bench_portal`` of N documents (10,000 by default) is crawled in full once (``yibao crawl
--fast``: CPU, wall, peak RSS). Then the archive is aged: every stored time is moved back ``--age`` days
(default 30), so every document is old (first seen long ago) and was last fetched then. Then cycles run every
``--every`` hours (8: three crawls a day) of simulated time: before each cycle the archive's times move back
by that much more. After the first aged cycle (the catch-up after a long pause) one document is edited on the
portal: the one that cycle fetched last-but-none, i.e. that waits longest for its next turn. The benchmark
prints each cycle's requests (revisits), CPU and wall time, and the simulated time until the edit's event.

    python -m benchmarks.revisit_bench [--docs 10000] [--days 8] [--every 8] [--age 30]
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

from benchmarks.bench_portal import BenchPortal
from benchmarks.crawl_compare import Workdir

POLICY_DAYS = 7  # YIBAO_REVISIT_OLD_INTERVAL_DAYS

# every stored time of the archive that the crawl state or the revisit policy reads, moved back by ? hours
_SHIFTS = {
    "postings": ("first_seen_at", "last_seen_at", "last_fetched_at", "last_listed_at"),
    "runs": ("started_at", "finished_at"),
    "documents": ("first_seen_at", "last_changed_at"),
}


def age(db_path: Path, hours: float) -> None:
    """Move every stored time back by ``hours`` (the simulated clock runs forward by as much)."""
    with sqlite3.connect(db_path) as conn:
        for table, columns in _SHIFTS.items():
            sets = ", ".join(
                f"{c} = CASE WHEN {c} IS NULL THEN NULL ELSE "
                f"strftime('%Y-%m-%dT%H:%M:%SZ', julianday({c}) - {hours} / 24.0) END"
                for c in columns
            )
            conn.execute(f"UPDATE {table} SET {sets}")


def last_fetched(db_path: Path) -> tuple[str, int]:
    """(URL, count) of the most recently fetched posting, and how many postings share that time."""
    with sqlite3.connect(db_path) as conn:
        (latest,) = conn.execute("SELECT MAX(last_fetched_at) FROM postings").fetchone()
        rows = conn.execute("SELECT url FROM postings WHERE last_fetched_at = ? ORDER BY url", [latest]).fetchall()
    return rows[-1][0], len(rows)


def edited(db_path: Path, url: str) -> bool:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("SELECT COUNT(*) FROM events WHERE url = ? AND kind = 'edited'", [url]).fetchone()[0] > 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--days", type=float, default=8.0, help="simulated days of cycles after the catch-up")
    parser.add_argument("--every", type=float, default=8.0, help="hours between cycles")
    parser.add_argument("--age", type=float, default=30.0, help="days the archive is aged after the first crawl")
    args = parser.parse_args(argv)
    portal = BenchPortal(args.docs)
    with portal.serve(), tempfile.TemporaryDirectory(prefix="revisit-bench-") as tmp:
        work = Workdir(Path(tmp), portal, "yibao")
        db = work.path / "archive.db"
        first = work.run()
        print(f"first crawl of {args.docs} documents: {first.requests} requests, CPU {first.cpu:.1f} s, wall "
              f"{first.wall:.1f} s, peak RSS {first.rss_mb:.0f} MiB (goal < 300 MiB)", flush=True)  # fmt: skip
        age(db, args.age * 24)
        print(f"archive aged {args.age:g} days: every document old, last fetched {args.age:g} days ago; a cycle every "
              f"{args.every:g} h of simulated time", flush=True)  # fmt: skip
        catch_up = work.run()
        print(f"  catch-up cycle (after a pause longer than the period): {catch_up.details} revisits "
              f"({catch_up.not_modified} answered 304), {catch_up.requests} requests, CPU {catch_up.cpu:.1f} s", flush=True)
        target, _ = last_fetched(db)
        doc_id = int(target.rsplit("/", 1)[1].split(".")[0])
        portal.edit(doc_id)
        print(f"  edited document {doc_id} on the portal (fetched last in the catch-up: the longest wait for its turn)")
        cycles: list[tuple[float, int, int, float]] = []
        seen_at: float | None = None
        hours = 0.0
        while hours < args.days * 24:
            age(db, args.every)
            hours += args.every
            m = work.run()
            cycles.append((hours, m.details, m.requests, m.cpu))
            print(f"  +{hours / 24:5.2f} d: {m.details:5d} revisits ({m.not_modified} × 304), {m.requests:5d} requests, "
                  f"CPU {m.cpu:5.2f} s, wall {m.wall:5.2f} s", flush=True)  # fmt: skip
            if seen_at is None and edited(db, target):
                seen_at = hours
                print(f"  -> the edit's event recorded {hours / 24:.2f} days after the edit (policy: within "
                      f"{POLICY_DAYS} days)", flush=True)  # fmt: skip
        revisits = [c[1] for c in cycles]
        print(f"steady cycles: revisits median {statistics.median(revisits):.0f} [{min(revisits)}–{max(revisits)}] "
              f"(⌈N × Δ / T⌉ = {math.ceil(args.docs * args.every / (POLICY_DAYS * 24))}), CPU median "
              f"{statistics.median(c[3] for c in cycles):.2f} s")  # fmt: skip
        if seen_at is None:
            print(f"the edit was NOT seen within {args.days:g} simulated days")
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
