"""Crawl runs: one row per crawl, with Scrapy's finish reason and the health verdict."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlite_utils

from storage.db import to_utc_iso, write_transaction

HEALTH_OK = "ok"
FINISHED = "finished"  # Scrapy's finish_reason for a crawl that ran to its end


@dataclass(frozen=True)
class Run:
    id: int
    portal_id: str
    started_at: str
    finished_at: str | None
    finish_reason: str | None
    health: str | None
    full: bool
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        """Finished normally and classified 'ok': the only kind of run allowed to withdraw documents."""
        return self.finished_at is not None and self.health == HEALTH_OK and self.finish_reason == FINISHED


_COLUMNS = "id, portal_id, started_at, finished_at, finish_reason, health, full, stats_json"


def _run(row: Sequence[Any]) -> Run:
    run_id, portal_id, started_at, finished_at, finish_reason, health, full, stats_json = row
    stats = json.loads(stats_json) if stats_json else {}
    return Run(run_id, portal_id, started_at, finished_at, finish_reason, health, bool(full), stats)


def start_run(
    db: sqlite_utils.Database, portal_id: str, *, now: datetime | str | None = None, full: bool = False
) -> int:
    """Create a run row and return its id (passed to the crawl as ``YIBAO_RUN_ID``)."""
    with write_transaction(db):
        cursor = db.execute(
            "INSERT INTO runs (portal_id, started_at, full) VALUES (?, ?, ?)",
            [portal_id, to_utc_iso(now), int(full)],
        )
    return cursor.lastrowid or 0


def finish_run(
    db: sqlite_utils.Database,
    run_id: int,
    *,
    finish_reason: str,
    health: str,
    stats: Mapping[str, Any] | None = None,
    now: datetime | str | None = None,
) -> None:
    """Close a run. ``stats`` is stored as JSON (non-JSON values such as datetimes as strings)."""
    with write_transaction(db):
        cursor = db.execute(
            "UPDATE runs SET finished_at = ?, finish_reason = ?, health = ?, stats_json = ? WHERE id = ?",
            [to_utc_iso(now), finish_reason, health, json.dumps(dict(stats or {}), default=str), run_id],
        )
        if cursor.rowcount != 1:
            raise LookupError(f"no run {run_id}")


def get_run(db: sqlite_utils.Database, run_id: int) -> Run | None:
    row = db.execute(f"SELECT {_COLUMNS} FROM runs WHERE id = ?", [run_id]).fetchone()
    return _run(row) if row else None


def last_runs(db: sqlite_utils.Database, portal_id: str, *, limit: int = 10) -> list[Run]:
    """The portal's most recent runs, newest first."""
    rows = db.execute(
        f"SELECT {_COLUMNS} FROM runs WHERE portal_id = ? ORDER BY started_at DESC, id DESC LIMIT ?",
        [portal_id, limit],
    )
    return [_run(row) for row in rows]


def unfinished_runs(db: sqlite_utils.Database) -> list[Run]:
    """Runs not closed yet (running now, or left open by a killed crawl or scheduler), oldest first."""
    rows = db.execute(f"SELECT {_COLUMNS} FROM runs WHERE finished_at IS NULL ORDER BY id")
    return [_run(row) for row in rows]
