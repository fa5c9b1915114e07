"""A long first crawl under the run time limit (``yibao run --once --time-limit``) against slow replicas: each
run stops itself at the limit as ``partial`` (finish reason ``time_limit``), which is no failure for the
portal-broken alerts, and the next run resumes where it stopped -- every page fetched once over all runs --
until one finishes and completes the baseline: one summary counting every document, sent once.

``ops.jobs.backfill_settings`` is also checked on its own: deep list paging while a baseline is pending (the
portal's or a new column's), nothing revisited before the portal's first success, nothing special after.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler import settings as crawler_defaults
from crawler.registry import Column, Portal, load_registry
from ops.jobs import backfill_settings, due_portals, run_crawl, soft_time_limit
from ops.portal_alerts import consecutive_bad
from storage import finish_run, open_db, start_run
from storage.baselines import complete_baseline, pending_baseline
from tests.alerts.conftest import HOOK_SECRET, HookReceiver
from tests.e2e.scheduler.test_jobs import fast_config
from tests.e2e.warm import yibao

ROOT = Path(__file__).resolve().parents[3]
PORTAL = "fujian_xiamen"
TIME_LIMIT = 14  # seconds a run: it stops itself after soft_time_limit(14) = 4 s of crawling
SLOWED = "/zwgk/"  # the replica's list and detail pages of Xiamen are under it
DETAIL_PAGE = re.compile(r"/t\d{8}_\d+\.htm$")  # a TRS detail page (list pages are index_N.htm)


@pytest.fixture
def receiver() -> Iterator[HookReceiver]:
    hook = HookReceiver()
    yield hook
    hook.close()


def run_once(config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")} | {"YIBAO_HOOK_SECRET": HOOK_SECRET}
    return yibao("--config", str(config), "run", "--once", "--time-limit", str(TIME_LIMIT), PORTAL, timeout=120,
                 cwd=ROOT, env=env)  # forked warm (tests/e2e/warm.py)


def detail_fetches(world, start: int = 0) -> Counter[str]:
    """Detail pages answered 200, by path, from the ``start``-th request on (list pages and 304s left out)."""
    return Counter(urlsplit(path).path for _, path, status in world.portals[PORTAL].log[start:]
                   if status == 200 and DETAIL_PAGE.search(urlsplit(path).path))  # fmt: skip


def archived(db_path: Path) -> set[str]:
    """The paths of the pages the archive holds."""
    if not db_path.exists():
        return set()
    db = open_db(db_path)
    try:
        return {urlsplit(url).path for (url,) in db.execute("SELECT url FROM postings")}
    finally:
        db.close()


def test_a_time_limited_first_crawl_resumes_until_its_baseline_is_complete(make_replicas, tmp_path,
                                                                           receiver) -> None:
    server = make_replicas(docs=300, seed=2)
    world = server.world
    total = len(world.docs(PORTAL))
    config = fast_config(tmp_path, server, [PORTAL])
    config.write_text(config.read_text(encoding="utf-8") + (
        f'\n[alerts]\nallow_loopback = true\n\n[[watchers]]\nname = "desk"\nwebhook = {{ url = "{receiver.url("/desk")}", '
        'secret_env = "YIBAO_HOOK_SECRET" }\n'), encoding="utf-8")  # fmt: skip
    db_path = tmp_path / "archive.db"
    world.set_faults(PORTAL, slow=0.5, path_prefix=SLOWED)  # slow answers: a run cannot do it all

    healths, stored = [], []
    for _ in range(10):
        known, start = archived(db_path), len(world.portals[PORTAL].log)
        done = run_once(config)
        # resumed, never restarted: no page the archive held before this run was fetched again
        assert not set(detail_fetches(world, start)) & known
        health = dict(line.split() for line in done.stdout.splitlines() if len(line.split()) == 2)[PORTAL]
        assert done.returncode == 0, done.stdout + done.stderr[-3000:]  # partial is not a failure
        healths.append(health)
        db = open_db(db_path)
        stored.append(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
        runs = db.execute("SELECT finish_reason, health FROM runs ORDER BY id").fetchall()
        bad = consecutive_bad(db, PORTAL)
        ops_events = db.execute("SELECT COUNT(*) FROM events WHERE document_id IS NULL AND kind != 'baseline'")
        assert ops_events.fetchone()[0] == 0  # no "portal broken", however many partial runs
        db.close()
        assert runs[-1] == (("finished", "ok") if health == "ok" else ("time_limit", "partial")), runs
        assert bad == []
        if health == "ok":
            break
        assert receiver.requests == []  # nothing is announced before the baseline is complete
        assert due_portals(load_registry(config), db_path, datetime.now(UTC))  # still due: crawled again
    assert healths[-1] == "ok", (healths, stored)
    assert len(healths) >= 3, healths  # the limit did cut the backfill more than once
    assert set(healths[:-1]) == {"partial"}
    assert all(b > a for a, b in zip([0, *stored], stored[:-1], strict=False)), stored  # each run got further

    # every document archived, once; the only pages fetched again are ones in flight when a run's limit hit
    # (their answers were dropped with the run): at most the requests a run has in flight, per cut. A page
    # requeued first by the next run can be in flight at its cut too (a run slowed down by a loaded machine
    # gets little further than its requeued requests): once more per cut at most, never more
    assert stored[-1] == total
    fetched = detail_fetches(world)
    assert len(fetched) == total, (len(fetched), total)
    assert max(fetched.values()) <= len(healths), (fetched.most_common(3), healths)
    assert sum(n - 1 for n in fetched.values()) <= crawler_defaults.CONCURRENT_REQUESTS * (len(healths) - 1)
    db = open_db(db_path)
    assert dict(db.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind").fetchall()) == {"new": total,
                                                                                             "baseline": 1}
    db.close()

    # the baseline completed with the run that finished: one summary, counting the partial runs' documents too
    (summary,) = receiver.delivered("/desk")
    assert summary.headers["X-Yibao-Event"] == "baseline"
    assert summary.json["baseline"]["documents"] == total
    assert summary.json["baseline"]["run_id"] == len(healths)

    # and the next run is an ordinary incremental one: a new document is one alert
    world.clear_faults(PORTAL)
    published = world.publish(PORTAL)
    done = run_once(config)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert [r.headers["X-Yibao-Event"] for r in receiver.delivered("/desk")] == ["baseline", "new"]
    assert urlsplit(receiver.delivered("/desk")[-1].json["event"]["url"]).path == world.urls(published.doc_id)["main"]


def test_a_resumed_backfill_pages_past_the_pages_it_already_has(make_replicas, tmp_path) -> None:
    """The case "nothing new stops paging" gets wrong: a backfill cut off after it had fetched every document
    of each column's first list page. Its next run finds nothing new on page 1 and must page on all the same."""
    server = make_replicas(docs=300, seed=2)
    world = server.world
    config = fast_config(tmp_path, server, [PORTAL])
    portal = load_registry(config).get(PORTAL)
    db_path = tmp_path / "archive.db"
    # the cut-off backfill: only the first list page of each column was read, all of its documents fetched ...
    first = run_crawl(portal, config_path=str(config), db_path=db_path, extra_settings={"YIBAO_MAX_LIST_PAGES": "1"})
    db = open_db(db_path)
    had = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    assert 0 < had < len(world.docs(PORTAL))
    # ... and then the run was stopped by its limit (what a real cut leaves: a partial run, no baseline yet)
    finish_run(db, first.run_id, finish_reason="time_limit", health="partial", now=datetime.now(UTC))
    db.execute("DELETE FROM meta WHERE key = ?", [f"baseline:{PORTAL}"])
    db.conn.commit()
    db.close()
    known, start = archived(db_path), len(world.portals[PORTAL].log)

    second = run_crawl(portal, config_path=str(config), db_path=db_path)
    assert second.health == "ok"
    db = open_db(db_path)
    assert db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] == len(world.docs(PORTAL))
    db.close()
    requested = [urlsplit(path).path for _, path, _ in world.portals[PORTAL].log[start:]]
    assert "/zwgk/jytabl/index_1.htm" in requested  # past a first page that brought nothing new
    assert not set(detail_fetches(world, start)) & known  # and what it had was not fetched again


def test_soft_time_limit_leaves_room_to_close() -> None:
    assert soft_time_limit(3600) == 3480  # two minutes to close the default hour
    assert soft_time_limit(14) == 4  # at least ten seconds
    assert soft_time_limit(200) == 160  # a fifth in between
    assert soft_time_limit(3) == 1  # never below a second


def test_backfill_settings_follow_the_baseline(tmp_path) -> None:
    columns = ["建议提案办理", "政策文件", "规划总结"]
    portal = Portal(PORTAL, "厦门市医疗保障局", "350200", "city", "trs", allowed_domains=("127.0.0.1",),
                    columns=tuple(Column(name, "policies", f"http://127.0.0.1/{i}/") for i, name in enumerate(columns)))
    db = open_db(tmp_path / "archive.db")
    deep = str(crawler_defaults.YIBAO_MAX_LIST_PAGES)
    # never crawled, or only partially: the portal's baseline is pending
    assert backfill_settings(db, portal) == {"YIBAO_LOOKBACK_PAGES": deep, "YIBAO_REVISIT_BUDGET": "0"}
    run = start_run(db, PORTAL, now="2026-01-01T00:00:00Z")
    finish_run(db, run, finish_reason="time_limit", health="partial", now="2026-01-01T00:30:00Z")
    assert backfill_settings(db, portal)["YIBAO_LOOKBACK_PAGES"] == deep
    # a successful run completed it: ordinary incremental crawls
    run = start_run(db, PORTAL, now="2026-01-02T00:00:00Z")
    pending = pending_baseline(db, PORTAL, columns[:-1])  # this run crawled two of the three columns
    assert pending is not None
    assert pending.whole
    assert complete_baseline(db, pending, run_id=run, columns=columns[:-1], now="2026-01-02T00:30:00Z")
    finish_run(db, run, finish_reason="finished", health="ok", now="2026-01-02T00:30:00Z")
    assert not complete_baseline(db, pending, run_id=run, columns=columns[:-1])  # once only
    # ... but the last column was not crawled then: a new column, whose baseline pages deep, revisits as usual
    assert backfill_settings(db, portal) == {"YIBAO_LOOKBACK_PAGES": deep}
    column = pending_baseline(db, PORTAL, columns)
    assert column is not None
    assert (column.whole, column.columns) == (False, (columns[-1],))
    assert complete_baseline(db, column, run_id=run, columns=columns)
    assert backfill_settings(db, portal) == {}
    state = json.loads(db.execute("SELECT value FROM meta WHERE key = ?", [f"baseline:{PORTAL}"]).fetchone()[0])
    assert state["columns"] == sorted(columns)
    db.close()
