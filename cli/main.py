"""``yibao``: the command line. Entry point only: parse arguments, wire, call library functions."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from typing import Any

from crawler.registry import ConfigError, load_registry


def _settings(args: argparse.Namespace) -> Any:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    if getattr(args, "config", None):
        settings.set("YIBAO_CONFIG", args.config, priority="cmdline")
    if getattr(args, "db", None):
        settings.set("YIBAO_DB", args.db, priority="cmdline")
    if getattr(args, "full", False):
        settings.set("YIBAO_FULL", True, priority="cmdline")
    if getattr(args, "fast", False):  # politeness off: for replicas and benchmarks only
        settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
        settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")
        settings.set("CONCURRENT_REQUESTS_PER_DOMAIN", 8, priority="cmdline")
    settings.set("LOG_LEVEL", args.log_level, priority="cmdline")
    return settings


def cmd_portals(args: argparse.Namespace) -> int:
    config = load_registry(args.config)
    if args.json:
        print(json.dumps([{"id": p.id, "name": p.name, "family": p.family, "region_code": p.region_code,
                           "level": p.level, "enabled": p.enabled, "schedule": p.schedule,
                           "columns": [c.__dict__ for c in p.columns]} for p in config.portals.values()],
                         ensure_ascii=False, indent=2))
        return 0
    for p in config.portals.values():
        flag = "" if p.enabled else " (disabled)"
        print(f"{p.id:22s} {p.name:12s} {p.family:8s} {p.region_code} {len(p.columns)} columns{flag}")
    return 0


def cmd_crawl(args: argparse.Namespace) -> int:
    from scrapy.crawler import CrawlerProcess

    from alerts.watchers import load_alerts
    from cli.progress import CrawlProgress
    from crawler.dbpath import archive_path
    from storage import last_runs, open_db

    settings = _settings(args)
    config = load_registry(settings.get("YIBAO_CONFIG"))
    load_alerts(config.raw)  # a bad watcher fails here, with the same clear message as a bad portal
    portals = [config.get(pid) for pid in args.portals] if args.portals else config.enabled()
    process = CrawlerProcess(settings)
    crawlers = {portal.id: process.create_crawler(portal.id) for portal in portals}
    for crawler in crawlers.values():
        process.crawl(crawler)
    progress = CrawlProgress(crawlers)
    progress.start()
    try:
        process.start()
    finally:
        progress.stop()
    db = open_db(archive_path(settings))
    summary = {}
    for portal in portals:
        runs = last_runs(db, portal.id, limit=1)
        stats = runs[0].stats if runs else {}
        summary[portal.id] = {
            "health": runs[0].health if runs else "failed",
            "requests": stats.get("downloader/request_count", 0),
            "not_modified": stats.get("yibao/not_modified", 0),
            "new": stats.get("yibao/events/new", 0),
            "edited": stats.get("yibao/events/edited", 0) + stats.get("yibao/events/metadata_changed", 0)
            + stats.get("yibao/events/validity_changed", 0),
            "withdrawn": stats.get("yibao/events/withdrawn", 0),
            "errors": sum(v for k, v in stats.items() if k.startswith("yibao/errors/")),
        }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(f"{'portal':22s} {'health':9s} {'requests':>8s} {'304':>5s} {'new':>5s} {'edited':>6s} {'withdrawn':>9s} {'errors':>6s}")
        for pid, s in summary.items():
            print(f"{pid:22s} {s['health']:9s} {s['requests']:8d} {s['not_modified']:5d} {s['new']:5d} "
                  f"{s['edited']:6d} {s['withdrawn']:9d} {s['errors']:6d}")
    return 1 if any(s["health"] in ("failed", "blocked") for s in summary.values()) else 0


def cmd_demo(args: argparse.Namespace) -> int:
    from cli.demo import run

    return run(docs=args.docs, keep=args.keep)


def cmd_run(args: argparse.Namespace) -> int:
    import scheduler

    return scheduler.main(args)


def cmd_status(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ops.status import portal_status, print_status

    config = load_registry(args.config)
    print_status(portal_status(config, Path(args.db or config.archive_path)), args.json)
    return 0


def cmd_feed(args: argparse.Namespace) -> int:
    from pathlib import Path

    from alerts.feeds import build_feed, watcher_events
    from storage import open_db

    config = load_registry(args.config)
    db = open_db(Path(args.db or config.archive_path))
    try:
        if args.watcher:
            from alerts.watchers import load_watchers

            watcher = next((w for w in load_watchers(config.raw) if w.name == args.watcher), None)
            if watcher is None:
                print(f"yibao: no watcher named {args.watcher!r}", file=sys.stderr)
                return 2
            xml = build_feed(db, title=f"Yibao Watch: {watcher.name}", events=watcher_events(db, watcher),
                             feed_id=f"tag:yibao-watch,2026:feed/{watcher.name}")
        else:
            xml = build_feed(db)
    finally:
        db.close()
    if args.output:
        Path(args.output).write_bytes(xml)
    else:
        sys.stdout.buffer.write(xml)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="yibao", description="Yibao Watch: 医保局 portal crawler and change monitor")
    parser.add_argument("--config", help="user config file (default: $YIBAO_CONFIG or ./yibao.toml)")
    parser.add_argument("--log-level", default="WARNING")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("portals", help="list the portal registry")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_portals)
    p = sub.add_parser("crawl", help="crawl the given (or all enabled) portals into the archive")
    p.add_argument("portals", nargs="*")
    p.add_argument("--full", action="store_true", help="read every list page and re-fetch every document")
    p.add_argument("--db", help="archive path (default: [archive] path of the config, else data/archive.db)")
    p.add_argument("--fast", action="store_true", help="politeness off (replicas and benchmarks only)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_crawl)
    p = sub.add_parser("run", help="the scheduler daemon, or --once for cron/systemd timers")
    import scheduler

    scheduler.add_arguments(p)
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("status", help="per portal: last run, health, documents, events, next run")
    p.add_argument("--db")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("feed", help="Atom feed of the archive's changes, or of one watcher's")
    p.add_argument("watcher", nargs="?")
    p.add_argument("--db")
    p.add_argument("-o", "--output", help="write to this file (default: stdout)")
    p.set_defaults(func=cmd_feed)
    from cli.alerts import register as register_alerts
    from cli.diff import register as register_diff
    from cli.query import register as register_query
    from cli.serve import register as register_serve

    register_diff(sub)
    register_query(sub)
    register_alerts(sub)
    register_serve(sub)
    p = sub.add_parser("demo", help="the whole loop on the replica portals, printed (make demo)")
    p.add_argument("--docs", type=int, default=200)
    p.add_argument("--keep", metavar="DIR", help="keep the archive and config in DIR")
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"yibao: config error: {exc}", file=sys.stderr)
        return 2
    except sqlite3.DatabaseError as exc:  # e.g. --db pointing at a file that is not an archive
        print(f"yibao: cannot use the archive: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
