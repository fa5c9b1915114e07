"""Baselines: a portal's first successful crawl (and a newly added column's), and the runs that build it.

The first crawl of a portal archives every document it lists and records their events as usual, but those
events are the archive's *baseline*, not news: watchers hear of them in one summary (``alerts.routing``), not
one message per document. A portal's baseline is complete once one of its runs finishes successfully
(health ``ok`` or ``degraded``); until then every run of the portal is part of it: a first crawl stopped by its
time limit (health ``partial``, finish reason ``time_limit``) or one that failed is continued by the next run.
A column added to a portal whose baseline is complete has a baseline of its own, complete at the portal's next
successful run.

State, in ``meta``: key ``baseline:<portal id>`` = JSON ``{"run_id", "completed_at", "last_event_id",
"columns"}``: the run that last completed a baseline of the portal, the portal's last event id at that moment
and every column whose baseline is complete. An archive from before baselines (no key, but a successful run of
the portal) counts as complete, for the columns its postings were listed in by then.

``complete_baseline`` writes the key; call it inside the transaction that finishes the run (``finish_run``),
so a run is never healthy without its baseline being recorded, nor the other way round.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from storage.db import to_utc_iso, write_transaction
from storage.events import _COLUMNS as _EVENT_COLUMNS
from storage.events import Event, _event

BASELINE_EVENT = "baseline"  # the event that announces a completed baseline (document NULL)
HEALTH_PARTIAL = "partial"  # a run stopped by its time limit while making progress: continued by the next run
FINISH_TIME_LIMIT = "time_limit"  # the finish reason of such a run
SUCCESS = ("ok", "degraded")  # the healths that complete a baseline

__all__ = [
    "BASELINE_EVENT",
    "FINISH_TIME_LIMIT",
    "HEALTH_PARTIAL",
    "SUCCESS",
    "Baseline",
    "BaselineState",
    "baseline_events",
    "baseline_payloads",
    "baseline_state",
    "complete_baseline",
    "in_baseline",
    "pending_baseline",
    "portal_name",
    "postings_seen",
]


@dataclass(frozen=True)
class BaselineState:
    """What the archive knows of a portal's baselines."""

    complete: bool  # the portal's first successful crawl has happened
    columns: frozenset[str] = frozenset()  # the columns whose baseline is complete
    last_event_id: int = 0  # the portal's last event when a baseline of it was last completed
    run_id: int | None = None  # the run that completed it (None: before baselines existed, or never)


@dataclass(frozen=True)
class Baseline:
    """A baseline not complete yet: the whole portal's, or the newly added columns' of a portal whose own is."""

    portal_id: str
    portal_name: str
    columns: tuple[str, ...]  # the columns it covers (every configured column when ``whole``)
    whole: bool
    after_event_id: int = 0  # its events: the portal's after this id (of URLs listed in ``columns`` unless whole)


def _key(portal_id: str) -> str:
    return f"baseline:{portal_id}"


def _last_success(db: sqlite_utils.Database, portal_id: str) -> str | None:
    row = db.execute(
        "SELECT MAX(finished_at) FROM runs WHERE portal_id = ? AND finished_at IS NOT NULL"
        f" AND health IN ({', '.join('?' * len(SUCCESS))})",
        [portal_id, *SUCCESS],
    ).fetchone()
    return row[0] if row else None


def baseline_state(db: sqlite_utils.Database, portal_id: str) -> BaselineState:
    """The portal's baseline state (read-only)."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", [_key(portal_id)]).fetchone()
    if row is not None:
        data = json.loads(row[0])
        return BaselineState(True, frozenset(data.get("columns", ())), int(data.get("last_event_id", 0)),
                             data.get("run_id"))  # fmt: skip
    finished = _last_success(db, portal_id)
    if finished is None:
        return BaselineState(False)
    # crawled successfully before baselines were recorded: complete for the columns listed by then
    columns = {c for (c,) in db.execute(
        "SELECT DISTINCT column_name FROM postings WHERE portal_id = ? AND column_name IS NOT NULL"
        " AND first_seen_at <= ?", [portal_id, finished])}  # fmt: skip
    (last,) = db.execute(
        "SELECT COALESCE(MAX(id), 0) FROM events WHERE portal_id = ? AND created_at <= ?", [portal_id, finished]
    ).fetchone()
    return BaselineState(True, frozenset(columns), int(last))


def portal_name(db: sqlite_utils.Database, portal_id: str) -> str:
    """The portal's name as the registry last gave it (its id when unknown)."""
    row = db.execute("SELECT name FROM portals WHERE id = ?", [portal_id]).fetchone()
    return str(row[0]) if row and row[0] else portal_id


def pending_baseline(db: sqlite_utils.Database, portal_id: str, columns: Sequence[str]) -> Baseline | None:
    """The baseline a successful run of ``portal_id`` (crawling ``columns``) completes now, if any: the
    portal's own when it never had a successful run, else that of its columns not complete yet."""
    state = baseline_state(db, portal_id)
    name = portal_name(db, portal_id)
    if not state.complete:
        return Baseline(portal_id, name, tuple(dict.fromkeys(columns)), True)
    new = tuple(c for c in dict.fromkeys(columns) if c not in state.columns)
    return Baseline(portal_id, name, new, False, state.last_event_id) if new else None


def in_baseline(db: sqlite_utils.Database, portal_id: str | None, url: str | None) -> bool:
    """Is an event of ``portal_id`` about the page at ``url`` part of a baseline in progress? Yes while the
    portal has not had a successful run, or while the column the URL was listed in is a new one."""
    if portal_id is None:
        return False
    state = baseline_state(db, portal_id)
    if not state.complete:
        return True
    if url is None:
        return False
    row = db.execute("SELECT column_name FROM postings WHERE url = ?", [url]).fetchone()
    return row is not None and row[0] is not None and row[0] not in state.columns


def baseline_events(db: sqlite_utils.Database, baseline: Baseline) -> list[Event]:
    """The document events that make up ``baseline`` (in id order): those routed as baseline while it ran."""
    sql = (
        f"SELECT {', '.join(f'e.{c.strip()}' for c in _EVENT_COLUMNS.split(','))} FROM events e"
        " WHERE e.portal_id = ? AND e.document_id IS NOT NULL AND e.id > ?"
    )
    params: list[Any] = [baseline.portal_id, baseline.after_event_id]
    if not baseline.whole:
        sql += (" AND EXISTS (SELECT 1 FROM postings p WHERE p.url = e.url AND p.column_name IN"
                f" ({', '.join('?' * len(baseline.columns))}))")  # fmt: skip
        params += baseline.columns
    return [_event(row) for row in db.execute(sql + " ORDER BY e.id", params)]


def complete_baseline(
    db: sqlite_utils.Database,
    baseline: Baseline,
    *,
    run_id: int | None,
    columns: Sequence[str],
    now: datetime | str | None = None,
) -> bool:
    """Record ``baseline`` as complete: the portal's and every one of ``columns`` (the run's). Call it in the
    transaction that finishes the successful run, before ``finish_run`` (a successful run without the key
    reads as an archive from before baselines). Returns False, changing nothing, when that baseline is no
    longer pending (another run of the portal completed it meanwhile)."""
    with write_transaction(db):
        if pending_baseline(db, baseline.portal_id, columns) != baseline:
            return False
        state = baseline_state(db, baseline.portal_id)
        (last,) = db.execute("SELECT COALESCE(MAX(id), 0) FROM events WHERE portal_id = ?",
                             [baseline.portal_id]).fetchone()  # fmt: skip
        value = {"run_id": run_id, "completed_at": to_utc_iso(now), "last_event_id": int(last),
                 "columns": sorted(state.columns | set(columns))}  # fmt: skip
        db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [_key(baseline.portal_id), json.dumps(value, ensure_ascii=False, sort_keys=True)],
        )
    return True


def baseline_payloads(db: sqlite_utils.Database, event_id: int) -> dict[str, dict[str, Any]]:
    """The summary each watcher was given for the ``baseline`` event ``event_id`` (its outbox rows' payload)."""
    rows = db.execute(
        "SELECT watcher, payload_json FROM outbox WHERE event_id = ? AND payload_json IS NOT NULL ORDER BY id",
        [event_id],
    )
    return {watcher: json.loads(payload) for watcher, payload in rows}


def postings_seen(db: sqlite_utils.Database, run_id: int) -> int:
    """How many pages run ``run_id`` stored or confirmed (postings it saw): its progress."""
    (count,) = db.execute("SELECT COUNT(*) FROM postings WHERE last_seen_run = ?", [run_id]).fetchone()
    return int(count)
