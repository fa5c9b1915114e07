"""Scheduling rules with a controlled clock, and crawl jobs against the replicas."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from crawler.registry import load_registry
from ops.jobs import SHANGHAI, is_due, run_crawl, trigger_for
from ops.portal_alerts import assess
from replicas.registry import portal_entries, render_toml
from storage import finish_run, last_runs, open_db, start_run
from tests.e2e.warm import yibao

ROOT = Path(__file__).resolve().parents[3]


def shanghai(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def fast_config(tmp_path: Path, server, portals: list[str]) -> Path:
    """The replica portals (``replicas/portals.toml``, nothing of the shipped registry), ``portals`` enabled and
    due every 5 minutes with politeness off, the others disabled; ``[archive] path`` in ``tmp_path``.

    A batch of stored pages waits at most 0.1 s (``YIBAO_STORE_BATCH_SECONDS``, 1 s by default) before it is
    written: a crawl's last batch is still written by the timer, in one transaction, but a small crawl no longer
    idles a second after its last page (these tests run a few dozen of them)."""
    entries = portal_entries(server.urls)
    for pid, entry in entries.items():
        if pid in portals:
            entry.update(schedule="*/5 * * * *", settings={"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                                                           "YIBAO_STORE_BATCH_SECONDS": 0.1})
        else:
            entry["enabled"] = False
    path = tmp_path / "yibao.toml"
    path.write_text(render_toml(entries.values()) + f'\n[archive]\npath = "{tmp_path / "archive.db"}"\n',
                    encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("schedule", "after", "expected"),
    [
        pytest.param("20 7,13,19 * * *", shanghai(2026, 11, 23, 12, 0), shanghai(2026, 11, 23, 13, 20), id="next-slot"),
        pytest.param("20 7,13,19 * * *", shanghai(2026, 11, 23, 19, 21), shanghai(2026, 11, 24, 7, 20), id="next-day"),
        pytest.param("0 8 * * 1", shanghai(2026, 11, 23, 9, 0), shanghai(2026, 11, 30, 8, 0), id="weekly-monday"),
    ],
)
def test_cron_fires_at_local_times(schedule, after, expected):
    portal = load_registry().get("fujian_xiamen")
    portal = portal.__class__(**{**portal.__dict__, "schedule": schedule})
    assert trigger_for(portal).get_next_fire_time(None, after) == expected
    jittered = trigger_for(portal, jitter=120).get_next_fire_time(None, after)
    assert abs((jittered - expected).total_seconds()) <= 120


def test_overdue_rule():
    portal = load_registry().get("fujian_xiamen")  # 20 7,13,19 * * *
    assert is_due(portal, None, shanghai(2026, 11, 23, 12, 0))
    assert not is_due(portal, shanghai(2026, 11, 23, 7, 21), shanghai(2026, 11, 23, 12, 0))
    assert is_due(portal, shanghai(2026, 11, 23, 7, 21), shanghai(2026, 11, 23, 13, 20))
    assert is_due(portal, shanghai(2026, 11, 20, 7, 21), shanghai(2026, 11, 23, 6, 0))  # days behind: once


def test_one_run_per_portal_at_a_time(make_replicas, tmp_path):
    server = make_replicas(docs=200, seed=2)
    server.world.set_faults("fujian_xiamen", slow=0.3)
    config_path = fast_config(tmp_path, server, ["fujian_xiamen"])
    portal = load_registry(config_path).get("fujian_xiamen")
    db_path = tmp_path / "archive.db"
    db = open_db(db_path)  # the archive exists (migrated) before either crawl starts
    outcomes = []

    def crawl():
        outcomes.append(run_crawl(portal, config_path=str(config_path), db_path=db_path))

    first = threading.Thread(target=crawl)
    first.start()
    deadline = time.monotonic() + 60
    while not (runs := last_runs(db, "fujian_xiamen", limit=1)) or runs[0].finished_at is not None:
        assert first.is_alive(), f"the first crawl ended before its run was seen: {outcomes}"
        assert time.monotonic() < deadline, "the first crawl never opened its run"
        time.sleep(0.05)
    # the first crawl holds the portal (its run is open): a second one for the same portal is skipped
    second = run_crawl(portal, config_path=str(config_path), db_path=db_path)
    still_open = last_runs(db, "fujian_xiamen", limit=1)[0].finished_at is None
    first.join(120)
    assert not first.is_alive()
    assert second.health == "skipped"
    assert second.run_id is None
    assert still_open, "the first crawl finished before the second was tried: nothing was ordered"
    assert [o.health for o in outcomes] == ["ok"]
    assert len(last_runs(db, "fujian_xiamen", limit=10)) == 1  # the skipped crawl opened no run
    db.close()


def test_time_limit_stops_a_crawl_and_records_it(make_replicas, tmp_path):
    server = make_replicas(docs=200, seed=2)
    server.world.set_faults("fujian_xiamen", slow=0.5)
    config_path = fast_config(tmp_path, server, ["fujian_xiamen"])
    portal = load_registry(config_path).get("fujian_xiamen")
    started = time.monotonic()
    outcome = run_crawl(portal, config_path=str(config_path), db_path=tmp_path / "archive.db", time_limit=3)
    assert time.monotonic() - started < 45
    # stopped by its time limit: partial when it got somewhere, failed when not even a list page came back
    # (tests/scheduler/test_resume.py shows a long first crawl going partial and resuming)
    assert outcome.health in ("partial", "failed")
    db = open_db(tmp_path / "archive.db")
    (unfinished,) = db.execute("SELECT COUNT(*) FROM runs WHERE finished_at IS NULL").fetchone()
    assert unfinished == 0
    assert db.execute("SELECT finish_reason, health FROM runs").fetchall() == [("time_limit", outcome.health)]


def test_portal_broken_once_then_recovered_once(tmp_path):
    db = open_db(tmp_path / "archive.db")
    kinds = []
    for health in ["ok", "failed", "failed", "failed", "failed", "blocked", "ok", "ok", "failed"]:
        run_id = start_run(db, "nhsa", now=datetime.now(UTC))
        finish_run(db, run_id, finish_reason="finished", health=health, now=datetime.now(UTC))
        kinds.append(assess(db, "nhsa", threshold=3))
    assert kinds == [None, None, None, "portal_broken", None, None, "portal_recovered", None, None]


def test_once_mode_exit_status(make_replicas, tmp_path):
    server = make_replicas(docs=20, seed=2)
    config_path = fast_config(tmp_path, server, ["fujian_xiamen", "nhsa"])
    cmd = ["--config", str(config_path), "run", "--once"]
    done = yibao(*cmd, timeout=180, cwd=ROOT)  # forked warm (tests/e2e/warm.py)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "fujian_xiamen" in done.stdout
    assert "nhsa" in done.stdout
    again = yibao(*cmd, timeout=180, cwd=ROOT)
    assert "nothing due" in again.stdout
    server.world.set_faults("nhsa", broken_layout=True)
    failed = yibao(*cmd, "nhsa", timeout=180, cwd=ROOT)
    assert failed.returncode == 1
    assert "failed" in failed.stdout


def test_sigterm_stops_the_daemon_within_the_grace_period(make_replicas, tmp_path):
    server = make_replicas(docs=300, seed=2)
    server.world.set_faults("fujian_xiamen", slow=0.2)
    config_path = fast_config(tmp_path, server, ["fujian_xiamen"])
    log = (tmp_path / "scheduler.log").open("w")
    proc = subprocess.Popen([sys.executable, "scheduler.py", "--config", str(config_path)], cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    db_path = tmp_path / "archive.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the overdue portal's catch-up crawl has started
        time.sleep(0.5)
        if db_path.exists() and open_db(db_path).execute("SELECT COUNT(*) FROM runs").fetchone()[0]:
            break
    time.sleep(2)
    started = time.monotonic()
    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(90) == 0, (tmp_path / "scheduler.log").read_text()
    log.close()
    assert time.monotonic() - started < 60
    db = open_db(db_path)
    assert db.execute("SELECT COUNT(*) FROM runs WHERE finished_at IS NULL").fetchone()[0] == 0


def test_status_reports_each_portal(make_replicas, tmp_path):
    server = make_replicas(docs=20, seed=2)
    config_path = fast_config(tmp_path, server, ["fujian_xiamen"])
    cmd = ["--config", str(config_path)]
    yibao(*cmd, "run", "--once", timeout=180, cwd=ROOT, check=True)
    done = yibao(*cmd, "status", "--json", timeout=60, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    rows = {row["portal"]: row for row in json.loads(done.stdout)}
    assert set(rows) == set(server.urls)
    xiamen = rows["fujian_xiamen"]
    assert xiamen["health"] == "ok"
    assert xiamen["documents"] == len(server.world.docs("fujian_xiamen"))
    assert xiamen["events_7d"] == xiamen["documents"]
    assert xiamen["consecutive_failures"] == 0
    assert xiamen["next_run"].endswith("+08:00")  # Beijing time
    assert rows["nhsa"]["last_run"] is None
    assert rows["nhsa"]["next_run"] is None  # disabled
