"""Running crawls as jobs: one subprocess per crawl, a wall-clock limit, one run per portal at a time.

Each crawl is ``python -m scrapy crawl <portal>`` in its own process (the Twisted reactor cannot
restart, and a leak or crash stays contained), reporting into a ``runs`` row opened here and passed
as ``YIBAO_RUN_ID``. A crawl killed at its time limit (or by a kill -9 of everything) leaves its run
unfinished; ``close_stale_runs`` marks such rows failed at the next start.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger

from core.cron import SHANGHAI, cron_trigger
from crawler.registry import Config, Portal
from storage import finish_run, get_run, last_runs, open_db, start_run
from storage.runs import unfinished_runs

__all__ = ["SHANGHAI", "CrawlOutcome", "close_stale_runs", "due_portals", "is_due", "run_crawl", "trigger_for"]
DEFAULT_TIME_LIMIT = 3600.0
_running: set[str] = set()
_running_lock = threading.Lock()


@dataclass(frozen=True)
class CrawlOutcome:
    portal_id: str
    run_id: int | None
    health: str  # ok | degraded | failed | blocked | skipped
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
    """Runs left unfinished by a killed scheduler or crawl are closed as failed (``interrupted``)."""
    db = open_db(db_path)
    try:
        runs = unfinished_runs(db)  # before the busy set: a crawl starting now is in neither
        with _running_lock:
            busy = set(_running)
        closed = 0
        for run in runs:
            if run.portal_id not in busy:
                finish_run(db, run.id, finish_reason="interrupted", health="failed", now=now)
                closed += 1
        return closed
    finally:
        db.close()


def crawl_command(portal: Portal, run_id: int, config_path: str | None, db_path: Path) -> list[str]:
    cmd = [sys.executable, "-m", "scrapy", "crawl", portal.id, "-s", f"YIBAO_RUN_ID={run_id}",
           "-s", f"YIBAO_DB={db_path}", "-s", "LOG_LEVEL=INFO"]
    if config_path:
        cmd += ["-s", f"YIBAO_CONFIG={config_path}"]
    return cmd


# Linux: the crawl dies with the scheduler that started it (PR_SET_PDEATHSIG, kept across exec). A scheduler
# killed with SIGKILL otherwise leaves its crawl running in its own session: the next start closes that live
# run as ``interrupted`` and crawls the same portal alongside it (two runs of one portal at once).
_DIE_WITH_PARENT = (
    "import ctypes, os, sys\n"
    "ctypes.CDLL(None).prctl(1, 9)\n"  # PR_SET_PDEATHSIG, SIGKILL
    "if os.getppid() != int(sys.argv[1]):\n    os._exit(137)\n"  # the parent died before prctl
    "os.execv(sys.executable, [sys.executable, *sys.argv[2:]])\n"
)


def _die_with_parent(cmd: list[str]) -> list[str]:
    if not sys.platform.startswith("linux") or cmd[0] != sys.executable:
        return cmd
    return [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *cmd[1:]]


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
        run_id = start_run(db, portal.id, now=started)
        db.close()
        cmd = crawl_command(portal, run_id, config_path, db_path)
        for key, value in (extra_settings or {}).items():
            cmd += ["-s", f"{key}={value}"]
        env = {**os.environ, "SCRAPY_SETTINGS_MODULE": "crawler.settings"}
        log_path = run_log_path(db_path, portal.id, run_id)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("w", encoding="utf-8") as log_file:
            proc = subprocess.Popen(_die_with_parent(cmd), env=env, start_new_session=True, stdout=log_file,
                                    stderr=log_file)
            returncode = _wait(proc, time_limit, stop)
        return _outcome(portal, run_id, returncode, started, db_path)
    finally:
        with _running_lock:
            _running.discard(portal.id)


def _wait(proc: subprocess.Popen[bytes], time_limit: float, stop: threading.Event | None) -> int:
    """Wait for the crawl; on the time limit or a stop request: SIGTERM (Scrapy closes cleanly), then SIGKILL."""
    deadline = datetime.now(UTC) + timedelta(seconds=time_limit)
    while proc.poll() is None:
        if datetime.now(UTC) >= deadline or (stop is not None and stop.is_set()):
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            break
        try:
            proc.wait(0.5)
        except subprocess.TimeoutExpired:
            continue
    return proc.returncode


def _outcome(portal: Portal, run_id: int, returncode: int, started: datetime, db_path: Path) -> CrawlOutcome:
    db = open_db(db_path)
    try:
        run = get_run(db, run_id)
        if run is None or run.finished_at is None:  # killed before the run recorder could close it
            finish_run(db, run_id, finish_reason=f"exit {returncode}", health="failed", now=datetime.now(UTC))
            health = "failed"
        else:
            health = run.health or "failed"
    finally:
        db.close()
    seconds = (datetime.now(UTC) - started).total_seconds()
    return CrawlOutcome(portal.id, run_id, health, returncode, seconds)
