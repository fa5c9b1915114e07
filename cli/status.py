"""``yibao status``: per portal, the last run and its health, documents, events, next run; the last failure
with its reason and the crawl log. Exit status 1 when an enabled portal's last run failed or was blocked,
so ``yibao status || alert`` works from cron or a monitoring check.
"""

from __future__ import annotations

import json

from cli.app import App, command
from cli.table import print_table

__all__ = ["status"]


@command("status", help="per portal: last run, health, documents, events, next run, last failure")
def status(app: App) -> int:
    from ops.status import BAD, add_failures, portal_status

    archive = app.existing_archive()
    rows = portal_status(app.config, archive)
    add_failures(archive, rows)
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
