"""``yibao status``: per portal, the last run and its health, documents, recent events, next run."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.cron import SHANGHAI, cron_trigger
from crawler.registry import Config
from ops.portal_alerts import consecutive_bad
from storage import open_db
from storage.views import portal_stats


def portal_status(config: Config, db_path: Path, now: datetime | None = None) -> list[dict[str, Any]]:
    now = now or datetime.now(UTC)
    week_ago = (now - timedelta(days=7)).isoformat(timespec="seconds").replace("+00:00", "Z")
    db = open_db(db_path)
    try:
        rows = []
        for portal in config.portals.values():
            stats = portal_stats(db, portal.id, since=week_ago)
            last = stats.last_finished
            documents, events = stats.documents, stats.events_since
            trigger = cron_trigger(portal.schedule)
            next_run = trigger.get_next_fire_time(None, now.astimezone(SHANGHAI))
            rows.append({
                "portal": portal.id,
                "name": portal.name,
                "enabled": portal.enabled,
                "last_run": last.started_at if last else None,
                "health": last.health if last else None,
                "documents": documents,
                "events_7d": events,
                "next_run": next_run.isoformat(timespec="minutes") if (next_run and portal.enabled) else None,
                "consecutive_failures": len(consecutive_bad(db, portal.id)),
            })
        return rows
    finally:
        db.close()


def print_status(rows: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="yibao status")
    for column in ("portal", "last run (UTC)", "health", "documents", "events 7d", "next run", "failures"):
        table.add_column(column)
    for r in rows:
        table.add_row(r["portal"], r["last_run"] or "-", r["health"] or "-", str(r["documents"]),
                      str(r["events_7d"]), r["next_run"] or "disabled", str(r["consecutive_failures"]))
    Console().print(table)
