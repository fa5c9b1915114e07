"""Operating the crawls: portal health over time (one "portal broken" alert per outage, one
recovery notice) and the dispatcher hook used by the scheduler.

A portal is broken after ``FAILURES_BEFORE_ALERT`` consecutive bad runs (failed or blocked). The
ops event is recorded like any event (document NULL, kind ``portal_broken`` / ``portal_recovered``)
and routed to the watchers that asked for ops events, in the same transaction.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from crawler.registry import Config
from storage import add_event, last_runs, open_db, to_utc_iso, write_transaction
from storage.events import last_event_kind

FAILURES_BEFORE_ALERT = 3
BAD = ("failed", "blocked")
OPS_KINDS = ("portal_broken", "portal_recovered")


def last_ops_kind(db: sqlite_utils.Database, portal_id: str) -> str | None:
    return last_event_kind(db, portal_id, OPS_KINDS)


def consecutive_bad(db: sqlite_utils.Database, portal_id: str) -> list[Any]:
    """The latest finished runs of the portal, newest first, while they are bad."""
    streak = []
    for run in last_runs(db, portal_id, limit=50):
        if run.finished_at is None or run.finish_reason == "interrupted":
            continue  # a killed scheduler says nothing about the portal
        if run.health not in BAD:
            break
        streak.append(run)
    return streak


def assess(db: sqlite_utils.Database, portal_id: str, *, threshold: int = FAILURES_BEFORE_ALERT,
           on_event: Any = None, now: datetime | None = None) -> str | None:
    """Record ``portal_broken`` / ``portal_recovered`` when the portal's state changes; returns the kind."""
    now = now or datetime.now(UTC)
    streak = consecutive_bad(db, portal_id)
    previous = last_ops_kind(db, portal_id)
    kind = None
    if len(streak) >= threshold and previous != "portal_broken":
        kind = "portal_broken"
        evidence = [{"run": r.id, "started_at": r.started_at, "health": r.health, "reason": r.finish_reason,
                     "requests": r.stats.get("downloader/request_count", 0), "listed": r.stats.get("yibao/listed", 0),
                     "blocked": r.stats.get("yibao/blocked", 0)} for r in streak[:threshold]]
        summary = f"门户异常：{portal_id} 连续 {len(streak)} 次抓取失败 " + json.dumps(evidence, ensure_ascii=False)
    elif not streak and previous == "portal_broken":
        kind = "portal_recovered"
        summary = f"门户恢复：{portal_id} 抓取恢复正常"
    if kind is None:
        return None
    with write_transaction(db):
        event = add_event(db, kind=kind, document_id=None, version_id=None, prev_version_id=None,
                          changed_fields=[], now=to_utc_iso(now), summary=summary, run_id=None, portal_id=portal_id, url=None)
        if on_event is not None:
            on_event(db, event)
    return kind


def _router(config: Config) -> Any:
    try:
        from alerts.routing import make_router
        from alerts.watchers import load_watchers
    except ImportError:  # alerts not configured in this build
        return None
    return make_router(load_watchers(config.raw))


def after_run(db_path: Path, config: Config, portal_id: str) -> str | None:
    db = open_db(db_path)
    try:
        return assess(db, portal_id, on_event=_router(config))
    finally:
        db.close()


def dispatch(db_path: Path, config: Config) -> Any:
    try:
        from alerts.dispatch import dispatch_due
    except ImportError:
        return None
    db = open_db(db_path)
    try:
        return dispatch_due(db, config, datetime.now(UTC))
    finally:
        db.close()
