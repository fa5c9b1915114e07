"""``yibao portals``, ``yibao crawl`` and ``yibao run``: the registry, a crawl in this process, the scheduler."""

from __future__ import annotations

import json
from typing import Any

import click

from cli.app import App, command, group
from cli.discover import portals_check

__all__ = ["crawl", "portals", "run", "scrapy_settings"]

_FAILED = ("failed", "blocked")


@group("portals", invoke_without_command=True,
       help="list the portal registry; `portals check [PORTAL]...` checks them live")  # fmt: skip
def portals(app: App) -> int:
    if click.get_current_context().invoked_subcommand is not None:
        return 0
    config = app.config
    if app.options.json:
        print(json.dumps([{"id": p.id, "name": p.name, "family": p.family, "region_code": p.region_code,
                           "level": p.level, "enabled": p.enabled, "schedule": p.schedule,
                           "columns": [c.__dict__ for c in p.columns]} for p in config.portals.values()],
                         ensure_ascii=False, indent=2))  # fmt: skip
        return 0
    for p in config.portals.values():
        flag = "" if p.enabled else " (disabled)"
        print(f"{p.id:22s} {p.name:12s} {p.family:8s} {p.region_code} {len(p.columns)} columns{flag}")
    return 0


portals.add_command(portals_check)


def scrapy_settings(app: App, *, full: bool = False, fast: bool = False) -> Any:
    """The project's Scrapy settings with the command line's choices at ``cmdline`` priority."""
    import os

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    if app.options.config:
        settings.set("YIBAO_CONFIG", app.options.config, priority="cmdline")
    settings.set("YIBAO_DB", str(app.archive_path), priority="cmdline")  # --db > $YIBAO_DB > [archive] path
    if full:
        settings.set("YIBAO_FULL", True, priority="cmdline")
    if fast:  # politeness off: for replicas and benchmarks only
        settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 8, priority="cmdline")
    settings.set("LOG_LEVEL", app.log_level("WARNING"), priority="cmdline")
    return settings


def _summary(stats: dict[str, Any], health: str, reason: str | None = None, run: int | None = None) -> dict[str, Any]:
    """The figures ``yibao crawl`` prints for one portal, from its run's Scrapy stats."""
    return {
        "run": run,
        "health": health,
        "reason": reason,
        "requests": stats.get("downloader/request_count", 0),
        "not_modified": stats.get("yibao/not_modified", 0),
        "new": stats.get("yibao/events/new", 0),
        "edited": stats.get("yibao/events/edited", 0) + stats.get("yibao/events/metadata_changed", 0)
        + stats.get("yibao/events/validity_changed", 0),
        "withdrawn": stats.get("yibao/events/withdrawn", 0),
        "errors": sum(v for k, v in stats.items() if k.startswith("yibao/errors/")),
    }


@command("crawl", help="crawl the given (or all enabled) portals into the archive (progress table, summary)")
@click.argument("portal_ids", metavar="[PORTAL]...", nargs=-1)
@click.option("--full", is_flag=True, help="read every list page and re-fetch every document")
@click.option("--fast", is_flag=True, help="politeness off (replicas and benchmarks only)")
def crawl(app: App, portal_ids: tuple[str, ...], full: bool, fast: bool) -> int:
    """Exit status 1 when a portal's run failed or was blocked (the others are crawled all the same)."""
    settings = scrapy_settings(app, full=full, fast=fast)
    config = app.config
    app.alerts  # noqa: B018 -- a bad watcher fails here, with the same clear message as a bad portal
    chosen = [config.get(pid) for pid in portal_ids] if portal_ids else config.enabled()
    from scrapy.crawler import CrawlerProcess

    from cli.progress import CrawlProgress
    from storage import get_run

    process = CrawlerProcess(settings)
    crawlers = {portal.id: process.create_crawler(portal.id) for portal in chosen}
    for crawler in crawlers.values():
        process.crawl(crawler)
    progress = CrawlProgress(crawlers)
    progress.start()
    try:
        process.start()
    finally:
        progress.stop()
    summary = {}
    with app.archive(create=True) as db:
        for portal in chosen:  # each crawler's own run: another crawl of the portal may have started since
            run_id = crawlers[portal.id].stats.get_value("yibao/run_id")
            run = get_run(db, int(run_id)) if run_id else None
            if run is None:  # the crawl never opened its run (it failed before its start)
                summary[portal.id] = _summary({}, "failed", "not started")
            else:
                summary[portal.id] = _summary(run.stats, run.health or "failed", run.finish_reason, run.id)
    if app.options.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(f"{'portal':22s} {'health':9s} {'requests':>8s} {'304':>5s} {'new':>5s} {'edited':>6s} "
              f"{'withdrawn':>9s} {'errors':>6s}")  # fmt: skip
        for pid, s in summary.items():
            print(f"{pid:22s} {s['health']:9s} {s['requests']:8d} {s['not_modified']:5d} {s['new']:5d} "
                  f"{s['edited']:6d} {s['withdrawn']:9d} {s['errors']:6d}")
        for pid, s in summary.items():
            if s["health"] in _FAILED and s["reason"] not in (None, "finished"):
                print(f"{pid}: {s['health']}: {s['reason']}")
    return 1 if any(s["health"] in _FAILED for s in summary.values()) else 0


@command("run", no_json="the scheduler prints its progress as text (see `yibao status --json`)",
         help="the scheduler daemon, or --once for cron/systemd timers")  # fmt: skip
@click.argument("portal_ids", metavar="[PORTAL]...", nargs=-1)
@click.option("--once", is_flag=True, help="crawl what is due (or the given portals), dispatch, exit (cron mode)")
@click.option("--time-limit", type=float, default=3600.0, show_default=True, help="wall-clock limit of one crawl (s)")
def run(app: App, portal_ids: tuple[str, ...], once: bool, time_limit: float) -> int:
    import scheduler

    return scheduler.start(config_path=app.options.config, db_path=str(app.archive_path), time_limit=time_limit,
                           once=once, portals=list(portal_ids), log_level=app.log_level("INFO"))  # fmt: skip
