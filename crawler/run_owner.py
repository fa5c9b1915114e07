"""Which process owns an open run, so that a run left open by a killed crawl can be told from a live one.

A crawl claims its run when it opens (``claim``): a small file ``<archive>.runs/<run id>.pid`` beside the
archive names the process (pid, host, and the process's start time, so that a recycled pid is not taken for
the crawl), and is removed when the run is closed (``release``). A run still open whose owner is gone was left
by a crawl killed without a chance to close it (kill -9, a power cut): ``close_dead_runs`` closes it as
``interrupted`` (health ``failed``; the portal-broken alerts do not count interrupted runs). Runs of live
processes -- another ``yibao crawl`` of the same archive, a scheduler's crawl -- are never touched, and
neither is a run whose owner is on another host (an archive on a shared disk). A run with no claim at all (an
archive written before claims existed, or a crawl that died before it started) is closed once it is
``UNCLAIMED_GRACE`` old.
"""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlite_utils

from core.health import INTERRUPTED
from storage import finish_run, get_run
from storage.runs import unfinished_runs

UNCLAIMED_GRACE = timedelta(minutes=10)  # a run nobody claimed this long after it was opened is stale


def claims_dir(db_path: Path) -> Path:
    return db_path.parent / f"{db_path.name}.runs"


def _start_ticks(pid: int) -> int | None:
    """The process's start time (clock ticks since boot, Linux ``/proc``); None where it cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    try:
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (IndexError, ValueError):
        return None


def claim(db_path: Path, run_id: int, pid: int | None = None) -> None:
    """Record ``pid`` (default: this process) as the owner of run ``run_id``."""
    pid = pid or os.getpid()
    folder = claims_dir(db_path)
    folder.mkdir(parents=True, exist_ok=True)
    record = {"pid": pid, "host": socket.gethostname(), "start": _start_ticks(pid)}
    path = folder / f"{run_id}.pid"
    partial = path.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(json.dumps(record), encoding="utf-8")
    partial.replace(path)


def release(db_path: Path, run_id: int) -> None:
    (claims_dir(db_path) / f"{run_id}.pid").unlink(missing_ok=True)


def owner_alive(db_path: Path, run_id: int) -> bool | None:
    """True when the run's owner runs (or is on another host, where it cannot be checked), False when it is
    gone, None when the run was never claimed."""
    try:
        record = json.loads((claims_dir(db_path) / f"{run_id}.pid").read_text(encoding="utf-8"))
        pid = int(record["pid"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        return False  # a torn or foreign file: nobody can own the run through it
    if record.get("host") != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # alive, another user's
    start = record.get("start")
    return start is None or _start_ticks(pid) in (None, start)  # a recycled pid started later


def close_dead_runs(db: sqlite_utils.Database, db_path: Path, now: datetime, *,
                    busy: frozenset[str] = frozenset()) -> list[int]:  # fmt: skip
    """Close the open runs whose owner is gone (or that nobody claimed within ``UNCLAIMED_GRACE``) as
    ``interrupted``, except those of the ``busy`` portals; returns their ids."""
    closed = []
    for run in unfinished_runs(db):
        if run.portal_id in busy:
            continue
        alive = owner_alive(db_path, run.id)
        if alive is None:
            started = datetime.fromisoformat(run.started_at.replace("Z", "+00:00"))
            if started.tzinfo is None:
                started = started.replace(tzinfo=UTC)
            alive = now - started < UNCLAIMED_GRACE
        if alive:
            continue
        current = get_run(db, run.id)
        if current is None or current.finished_at is not None:  # closed by its crawl meanwhile
            continue
        finish_run(db, run.id, finish_reason=INTERRUPTED, health="failed", now=now)
        release(db_path, run.id)
        closed.append(run.id)
    return closed
