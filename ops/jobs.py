"""Running crawls as jobs: one subprocess per crawl, a wall-clock limit, one run per portal at a time.

Each crawl is ``scrapy crawl <portal>`` in its own process (the Twisted reactor cannot restart, and a leak or
crash stays contained), started warm by ``crawler.launcher`` (forked from a server that has imported the crawl's
code once; the crawl dies with its starter), reporting into a ``runs`` row opened here and passed
as ``YIBAO_RUN_ID``. A crawl killed by a kill -9 of everything leaves its run unfinished;
``close_stale_runs`` marks such rows failed at the next start.

The time limit. A crawl stops itself ahead of its wall-clock limit (``soft_time_limit``: Scrapy's
``CLOSESPIDER_TIMEOUT``) so that it closes cleanly: the requests in flight finish, what was fetched is
archived, and the run recorder closes the run as finish reason ``time_limit``, health ``partial`` while it
was making progress -- not a failure (``ops.portal_alerts`` counts only failed and blocked runs), and not a
success either: the portal stays due, and its baseline (``storage.baselines``) stays pending. Should the crawl
still run at the limit itself, it is stopped (SIGTERM, then SIGKILL) and its run closed the same way when it
stored anything. The next run resumes: a portal whose baseline is pending is crawled with
``backfill_settings`` -- list paging goes past pages that bring nothing new, so the pages the stopped run
never reached are listed, while every URL the archive already holds is skipped (not fetched again).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils
from apscheduler.triggers.cron import CronTrigger

from core.cron import SHANGHAI, cron_trigger
from core.health import DEGRADED, INTERRUPTED, OK, classify
from crawler.launcher import CrawlProcess, signal_group, start_crawl
from crawler.registry import Config, Portal
from crawler.run_owner import claim, close_dead_runs, release
from storage import finish_run, get_run, last_runs, open_db, start_run
from storage.baselines import FINISH_TIME_LIMIT, HEALTH_PARTIAL, pending_baseline, postings_seen

__all__ = [
    "SHANGHAI", "CrawlOutcome", "backfill_settings", "close_stale_runs", "due_portals", "is_due", "run_crawl",
    "soft_time_limit", "trigger_for",
]  # fmt: skip
DEFAULT_TIME_LIMIT = 3600.0
CLOSING_MARGIN = (10.0, 0.2, 120.0)  # seconds kept for closing: 20 % of the limit, at least 10 s, at most 2 min
_running: set[str] = set()
_running_lock = threading.Lock()


@dataclass(frozen=True)
class CrawlOutcome:
    portal_id: str
    run_id: int | None
    health: str  # ok | degraded | partial (stopped by the time limit) | failed | blocked | skipped
    returncode: int | None
    seconds: float


def trigger_for(portal: Portal, jitter: int | None = None) -> CronTrigger:
    return cron_trigger(portal.schedule, jitter=jitter)


def is_due(portal: Portal, last_ok_started: datetime | None, now: datetime) -> bool:
    """Overdue: a scheduled time of the portal has passed since its last successful run started."""
    if last_ok_started is None:
        return True
    next_fire = cron_trigger(portal.schedule).get_next_fire_time(None, last_ok_started)
    return next_fire is not None and next_fire <= now


def last_ok_start(db_path: Path, portal_id: str) -> datetime | None:
    db = open_db(db_path)
    try:
        for run in last_runs(db, portal_id, limit=50):
            if run.health in ("ok", "degraded") and run.finished_at:
                return datetime.fromisoformat(run.started_at.replace("Z", "+00:00"))
        return None
    finally:
        db.close()


def due_portals(config: Config, db_path: Path, now: datetime) -> list[Portal]:
    return [p for p in config.enabled() if is_due(p, last_ok_start(db_path, p.id), now)]


def run_log_path(db_path: Path, portal_id: str, run_id: int) -> Path:
    """Where a scheduled crawl's output goes: ``<archive folder>/logs/<portal>-run<id>.log``."""
    return db_path.parent / "logs" / f"{portal_id}-run{run_id}.log"


def close_stale_runs(db_path: Path, now: datetime) -> int:
    """Runs left unfinished by a killed scheduler or crawl are closed as failed (``interrupted``): those whose
    owning process is gone (``crawler.run_owner``), never a live crawl of another process or of this one."""
    db = open_db(db_path)
    try:
        with _running_lock:
            busy = frozenset(_running)
        return len(close_dead_runs(db, db_path, now, busy=busy))
    finally:
        db.close()


def soft_time_limit(time_limit: float) -> float:
    """The crawl's own limit (``CLOSESPIDER_TIMEOUT``, counted from the spider's start): the wall-clock limit
    less a margin for closing cleanly (``CLOSING_MARGIN``): 3480 s of the default 3600."""
    low, share, high = CLOSING_MARGIN
    return max(1.0, time_limit - min(high, max(low, share * time_limit)))


def backfill_settings(db: sqlite_utils.Database, portal: Portal) -> dict[str, str]:
    """Settings for a crawl of ``portal`` while its baseline is pending (its first successful crawl, or its new
    columns'): list paging never stops for a page that brings nothing new (an interrupted backfill fetched
    those; the pages it had not reached lie beyond them), up to ``YIBAO_MAX_LIST_PAGES``; and, before the
    portal's first success, nothing is revisited (whatever is known was fetched by the run just before)."""
    baseline = pending_baseline(db, portal.id, [column.name for column in portal.columns])
    if baseline is None:
        return {}
    from crawler import settings as crawler_defaults  # Scrapy's settings module: imported only when needed

    pages = portal.settings.get("YIBAO_MAX_LIST_PAGES", crawler_defaults.YIBAO_MAX_LIST_PAGES)
    chosen = {"YIBAO_LOOKBACK_PAGES": str(pages)}
    if baseline.whole:
        chosen["YIBAO_REVISIT_BUDGET"] = "0"
    return chosen


def crawl_arguments(portal: Portal, run_id: int, config_path: str | None, db_path: Path) -> list[str]:
    """``scrapy`` arguments of the portal's crawl (``crawler.launcher`` starts it warm or cold)."""
    args = ["crawl", portal.id, "-s", f"YIBAO_RUN_ID={run_id}", "-s", f"YIBAO_DB={db_path}", "-s", "LOG_LEVEL=INFO"]
    if config_path:
        args += ["-s", f"YIBAO_CONFIG={config_path}"]
    return args


def run_crawl(
    portal: Portal,
    *,
    config_path: str | None,
    db_path: Path,
    time_limit: float = DEFAULT_TIME_LIMIT,
    extra_settings: dict[str, str] | None = None,
    stop: threading.Event | None = None,
) -> CrawlOutcome:
    """Crawl one portal in a subprocess; never two at once for the same portal (in this process)."""
    with _running_lock:
        if portal.id in _running:
            return CrawlOutcome(portal.id, None, "skipped", None, 0.0)
        _running.add(portal.id)
    started = datetime.now(UTC)
    try:
        db = open_db(db_path)
        try:
            run_id = start_run(db, portal.id, now=started)
            claim(db_path, run_id)  # this process owns the run until the crawl claims it for itself
            chosen = {"CLOSESPIDER_TIMEOUT": f"{soft_time_limit(time_limit):g}", **backfill_settings(db, portal),
                      **(extra_settings or {})}  # fmt: skip
        finally:
            db.close()
        args = crawl_arguments(portal, run_id, config_path, db_path)
        for key, value in chosen.items():
            args += ["-s", f"{key}={value}"]
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
        log_path = run_log_path(db_path, portal.id, run_id)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        proc = start_crawl(args, env=env, log_path=log_path)
        stop = stop or threading.Event()
        with _stop_on_signals(stop):
            returncode, timed_out = _wait(proc, time_limit, stop)
        return _outcome(portal, run_id, returncode, started, db_path, timed_out=timed_out,
                        interrupted=stop.is_set() and not timed_out)  # fmt: skip
    finally:
        with _running_lock:
            _running.discard(portal.id)


def _wait(proc: CrawlProcess, time_limit: float, stop: threading.Event | None) -> tuple[int, bool]:
    """Wait for the crawl; on the time limit or a stop request: SIGTERM (Scrapy closes cleanly), then SIGKILL.
    Returns the exit status and whether the time limit was reached."""
    deadline = datetime.now(UTC) + timedelta(seconds=time_limit)
    timed_out = False
    while proc.poll() is None:
        timed_out = datetime.now(UTC) >= deadline
        if timed_out or (stop is not None and stop.is_set()):
            signal_group(proc, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                signal_group(proc, signal.SIGKILL)
                proc.wait()
            break
        try:
            proc.wait(0.5)
        except subprocess.TimeoutExpired:
            continue
    return proc.wait(), timed_out


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """While a crawl runs in the main thread of a process that left SIGTERM and SIGINT to Python's defaults
    (``yibao run --once``, where a SIGTERM used to kill the process and leave the run open forever), either
    signal sets ``stop``: the crawl is stopped cleanly (its run closes as ``interrupted``) and the caller starts
    no further crawl. Elsewhere (the daemon's worker threads, a process with its own handlers) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[signal.Signals, Any] = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        if signal.getsignal(signum) in (signal.SIG_DFL, signal.default_int_handler):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _stopped_at_limit(db: sqlite_utils.Database, run_id: int, stats: dict[str, object] | None) -> str:
    """The health of a run stopped at its time limit from outside: ``partial`` if it made progress (its pages
    judged as a finished run's are ok or degraded, or, unrecorded, it stored pages), else ``failed``."""
    if stats:
        return HEALTH_PARTIAL if classify(dict(stats), "finished") in (OK, DEGRADED) else "failed"
    return HEALTH_PARTIAL if postings_seen(db, run_id) else "failed"


def _outcome(portal: Portal, run_id: int, returncode: int, started: datetime, db_path: Path, *,
             timed_out: bool = False, interrupted: bool = False) -> CrawlOutcome:  # fmt: skip
    db = open_db(db_path)
    try:
        run = get_run(db, run_id)
        unrecorded = run is None or run.finished_at is None  # killed before the run recorder could close it
        if timed_out and (unrecorded or (run is not None and run.finish_reason in ("shutdown", INTERRUPTED))):
            stats = None if run is None or unrecorded else run.stats
            health = _stopped_at_limit(db, run_id, stats)
            finish_run(db, run_id, finish_reason=FINISH_TIME_LIMIT, health=health,
                       stats={**(stats or {}), "yibao/health": health}, now=datetime.now(UTC))  # fmt: skip
        elif unrecorded:  # a stopped crawl that did not close in time is interrupted, not the portal's failure
            reason = INTERRUPTED if interrupted else f"exit {returncode}"
            finish_run(db, run_id, finish_reason=reason, health="failed", now=datetime.now(UTC))
            health = "failed"
        else:
            assert run is not None
            health = run.health or "failed"
    finally:
        db.close()
        release(db_path, run_id)
    seconds = (datetime.now(UTC) - started).total_seconds()
    return CrawlOutcome(portal.id, run_id, health, returncode, seconds)
