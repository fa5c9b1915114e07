"""The revisit policy (``spiders.state.plan_revisits``) over simulated weeks: every document within the period
at a bounded cost per run, young ones every run, gone ones every run; the run history it reads. (A crawl after
an interrupted one reading every list page: tests/e2e/speed/test_crawl_policies.py.)"""

from __future__ import annotations

import itertools
import math
import pathlib
import random
from datetime import UTC, datetime, timedelta

from spiders.state import RevisitPolicy, plan_revisits
from storage import finish_run, open_db, start_run
from storage.crawl_state import KnownPosting, run_history
from storage.db import to_utc_iso

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
POLICY = RevisitPolicy(interval=timedelta(days=7), young=timedelta(days=14), young_budget=200)


def posting(url: str, first: datetime, fetched: datetime | None, status: str = "active") -> KnownPosting:
    return KnownPosting(url, "c", '"e"', None, to_utc_iso(first), to_utc_iso(fetched) if fetched else None, status)


def simulate(
    postings: dict[str, KnownPosting], run_times: list[datetime], policy: RevisitPolicy = POLICY
) -> tuple[dict[str, timedelta], list[int]]:
    """Run the policy at ``run_times`` (each run fetches what it plans); return each URL's longest wait between
    fetches (the simulated span's start counting as its last fetch) and each run's number of revisits."""
    last_fetch = dict.fromkeys(postings, run_times[0])
    longest = dict.fromkeys(postings, timedelta(0))
    counts = []
    last_run: datetime | None = None
    for now in run_times:
        urls = plan_revisits(postings.values(), now, to_utc_iso(last_run) if last_run else None, policy)
        counts.append(len(urls))
        assert len(set(urls)) == len(urls)
        for url in urls:
            longest[url] = max(longest[url], now - last_fetch[url])
            last_fetch[url] = now
            p = postings[url]
            postings[url] = KnownPosting(p.url, p.column, p.etag, p.last_modified, p.first_seen_at, to_utc_iso(now), p.status)
        last_run = now
    end = run_times[-1]
    for url in postings:
        longest[url] = max(longest[url], end - last_fetch[url])
    return longest, counts


def old_archive(n: int, rng: random.Random) -> dict[str, KnownPosting]:
    """``n`` documents first seen long ago, last fetched at scattered times of the last month."""
    return {
        f"https://p/{i}": posting(f"https://p/{i}", T0 - timedelta(days=90), T0 - timedelta(hours=rng.uniform(0, 24 * 30)))
        for i in range(n)
    }


def test_three_runs_a_day_cover_every_document_within_the_period_at_a_bounded_cost() -> None:
    postings = old_archive(10_000, random.Random(1))
    runs = [T0 + timedelta(hours=8 * k) for k in range(3 * 28)]  # four weeks
    longest, counts = simulate(postings, runs)
    assert max(longest.values()) <= timedelta(days=7)
    steady = counts[1:]  # the first run catches up on a month without crawls
    assert max(steady) <= math.ceil(10_000 * 8 / (7 * 24)) + 1  # N × Δ / T: about 477
    assert sum(steady) <= 10_000 * 4 + 3 * 28  # four periods of four weeks: each document about once a week


def test_irregular_runs_still_cover_every_document() -> None:
    rng = random.Random(2)
    postings = old_archive(3_000, rng)
    runs = [T0]
    while runs[-1] < T0 + timedelta(days=35):
        runs.append(runs[-1] + timedelta(hours=rng.choice([0.5, 1, 3, 8, 24, 60])))
    longest, _ = simulate(postings, runs)
    worst_gap = max(b - a for a, b in itertools.pairwise(runs))
    assert max(longest.values()) <= timedelta(days=7) + worst_gap


def test_young_documents_every_run_within_the_budget_and_gone_ones_every_run() -> None:
    rng = random.Random(3)
    postings = old_archive(2_000, rng)
    young = [f"https://p/new{i}" for i in range(150)]
    for i, url in enumerate(young):
        postings[url] = posting(url, T0 - timedelta(days=rng.uniform(0, 12)), T0 - timedelta(hours=i % 9))
    gone = [f"https://p/gone{i}" for i in range(5)]
    for url in gone:
        postings[url] = posting(url, T0 - timedelta(days=200), T0 - timedelta(hours=8), status="gone")
    for k in range(6):
        now = T0 + timedelta(hours=8 * k)
        urls = plan_revisits(postings.values(), now, to_utc_iso(now - timedelta(hours=8)), POLICY)
        assert set(young) <= set(urls)
        assert urls[: len(gone)] == sorted(gone)
        assert len(urls) <= len(gone) + len(young) + math.ceil(2_150 * 8 / 168)
    crowded = dict(postings)
    for i in range(500):  # after the first crawl of a large portal every document is young
        url = f"https://p/fresh{i}"
        crowded[url] = posting(url, T0 - timedelta(days=1), T0 - timedelta(days=1))
    urls = plan_revisits(crowded.values(), T0, to_utc_iso(T0 - timedelta(hours=8)), POLICY)
    young_now = [u for u in urls if "new" in u or "fresh" in u]
    assert len(young_now) <= POLICY.young_budget + math.ceil(len(crowded) * 8 / 168)


def test_no_finished_crawl_yet_revisits_everything_once() -> None:
    postings = old_archive(100, random.Random(4))
    assert len(plan_revisits(postings.values(), T0, None, POLICY)) == 100


def test_run_history_sees_the_last_complete_crawl_and_an_interrupted_one(tmp_path: pathlib.Path) -> None:
    db = open_db(tmp_path / "a.db")
    assert run_history(db, "p") == run_history(db, "p").__class__(None, interrupted=False)
    first = start_run(db, "p", now="2026-03-01T08:00:00Z")
    finish_run(db, first, finish_reason="finished", health="ok", now="2026-03-01T08:10:00Z")
    current = start_run(db, "p", now="2026-03-01T16:00:00Z")  # the crawl asking: its own open run is passed over
    assert run_history(db, "p").last_started_at == "2026-03-01T08:00:00Z"
    assert not run_history(db, "p").interrupted
    finish_run(db, current, finish_reason="interrupted", health="failed", now="2026-03-01T16:01:00Z")
    start_run(db, "p", now="2026-03-02T00:00:00Z")
    history = run_history(db, "p")
    assert history.interrupted
    assert history.last_started_at == "2026-03-01T08:00:00Z"  # the killed crawl does not count as a visit
    db.close()
