"""``yibao status``: per portal, the last run and its health, documents, recent events, next run; the last
failure with its reason and the crawl log it wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.cron import SHANGHAI, cron_trigger
from crawler.registry import Config
from ops.jobs import run_log_path
from ops.portal_alerts import consecutive_bad
from storage import last_runs, open_db
from storage.runs import Run
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


BAD = ("failed", "blocked")
RECENT_RUNS = 20  # the last failure is looked for among this many runs
_FACTS = (  # (label, Scrapy stats key): what the health verdict was made from (core.health.classify)
    ("requests", "downloader/request_count"),
    ("responses", "downloader/response_count"),
    ("list pages", "yibao/list_pages"),
    ("articles listed", "yibao/listed"),
    ("documents", "yibao/documents"),
    ("blocked", "yibao/blocked"),
)


def run_log(archive: Path, run: Run) -> Path | None:
    """The log file of a scheduled crawl, if there is one. ``ops.jobs.run_crawl`` writes each crawl's
    output to ``<archive folder>/logs/<portal>-run<id>.log``; a ``yibao crawl`` logs to the terminal."""
    path = run_log_path(archive, run.portal_id, run.id)
    return path if path.is_file() else None


def failure_reason(run: Run) -> str:
    """Why a run was judged bad, in the terms of its stats: its finish reason and the figures the health
    verdict is made from (no new judgement here: ``core.health`` made it)."""
    stats = run.stats
    reason = run.finish_reason or "unfinished"
    if not stats:
        return reason
    errors = sum(int(v) for k, v in stats.items() if k.startswith("yibao/errors/"))
    figures = [f"{int(stats.get(key, 0))} {label}" for label, key in _FACTS] + [f"{errors} errors"]
    text = f"{reason}; {', '.join(figures)}"
    drops = stats.get("yibao/coverage_drops") or []
    return text + (f"; coverage dropped: {', '.join(drops)}" if drops else "")


def add_failures(archive: Path, rows: list[dict[str, Any]]) -> None:
    """Add ``last_failure`` (reason and log of the portal's latest bad run) and ``log`` (of its last run)."""
    db = open_db(archive)
    try:
        for row in rows:
            runs = [r for r in last_runs(db, row["portal"], limit=RECENT_RUNS) if r.finished_at]
            last_log = run_log(archive, runs[0]) if runs else None
            row["log"] = str(last_log) if last_log else None
            bad = next((r for r in runs if r.health in BAD), None)
            row["last_failure"] = None if bad is None else {
                "run": bad.id, "started_at": bad.started_at, "health": bad.health,
                "reason": failure_reason(bad), "log": str(run_log(archive, bad) or "") or None,
            }  # fmt: skip
    finally:
        db.close()
