"""``yibao status``: per portal, the last run and its health, documents, events, next run; the last failure
with its reason and the crawl log. Exit status 1 when an enabled portal's last run failed or was blocked,
so ``yibao status || alert`` works from cron or a monitoring check.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.app import App, command
from cli.table import print_table

if TYPE_CHECKING:
    from storage.runs import Run

__all__ = ["failure_reason", "run_log", "status"]

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
    path = archive.parent / "logs" / f"{run.portal_id}-run{run.id}.log"
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


def _details(app: App, archive: Path, rows: list[dict[str, Any]]) -> None:
    """Add ``last_failure`` (reason and log of the portal's latest bad run) and ``log`` (of its last run)."""
    from storage import last_runs

    with app.archive() as db:
        for row in rows:
            runs = [r for r in last_runs(db, row["portal"], limit=RECENT_RUNS) if r.finished_at]
            last_log = run_log(archive, runs[0]) if runs else None
            row["log"] = str(last_log) if last_log else None
            bad = next((r for r in runs if r.health in BAD), None)
            row["last_failure"] = None if bad is None else {
                "run": bad.id, "started_at": bad.started_at, "health": bad.health,
                "reason": failure_reason(bad), "log": str(run_log(archive, bad) or "") or None,
            }  # fmt: skip


@command("status", help="per portal: last run, health, documents, events, next run, last failure")
def status(app: App) -> int:
    from ops.status import portal_status

    archive = app.existing_archive()
    rows = portal_status(app.config, archive)
    _details(app, archive, rows)
    if app.options.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        headers = ("portal", "last run (UTC)", "health", "documents", "events 7d", "next run", "failures")
        cells = [(r["portal"], r["last_run"] or "-", r["health"] or "-", str(r["documents"]), str(r["events_7d"]),
                  r["next_run"] or "disabled", str(r["consecutive_failures"])) for r in rows]  # fmt: skip
        print_table("yibao status", headers, cells, right=("documents", "events 7d", "failures"))
        failures = [r for r in rows if r["last_failure"]]
        if failures:
            print("\nlast failures:")
        for r in failures:
            bad = r["last_failure"]
            print(f"  {r['portal']}  {bad['started_at']}  {bad['health']} (run {bad['run']}): {bad['reason']}")
            if bad["log"]:
                print(f"    log: {bad['log']}")
    return 1 if any(r["enabled"] and r["health"] in BAD for r in rows) else 0
