"""Command line of the alerts: ``dispatch``, ``deliveries`` and ``alerts test|list``.

``register(subparsers)`` adds them to ``yibao`` (``crawler/cli.py``); ``python -m cli.alerts`` runs them on
their own. Every command takes ``--config`` (also accepted before the command) and ``--db`` (default: the
config's ``[archive] path``).

    yibao dispatch [--json]                       send what is due, print a report
    yibao deliveries [--pending|--failed|--dead|--sent|--all] [--watcher W] [--limit N] [--json]
    yibao deliveries retry ID [ID ...] | --all-dead
    yibao alerts test WATCHER                     a test message through each channel, one result each
    yibao alerts list                             the configured watchers (validates the config)
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crawler.registry import ConfigError, load_registry


def _common(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: a --config given before the command is not overwritten by this parser's default
    parser.add_argument("--config", default=argparse.SUPPRESS, help="user config file (yibao.toml)")
    parser.add_argument("--db", default=argparse.SUPPRESS, help="archive path (default: [archive] path of the config)")


def _open(args: argparse.Namespace) -> tuple[Any, Any]:
    from storage.db import open_db

    config = load_registry(getattr(args, "config", None))
    path = Path(getattr(args, "db", None) or config.archive_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return config, open_db(path)


def cmd_dispatch(args: argparse.Namespace) -> int:
    from alerts.dispatch import alerts_config, dispatch_due

    now = datetime.fromisoformat(args.now.replace("Z", "+00:00")) if args.now else None
    if now is not None and now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    config, db = _open(args)
    try:
        report = dispatch_due(db, alerts_config(config), now)
    finally:
        db.close()
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        for r in report.results:
            print(f"{r.status:6s} {r.watcher} {r.channel} {r.target} rows={','.join(map(str, r.ids))} {r.detail}")
        print(report)
    return 0


def _print_deliveries(rows: list[Any], as_json: bool) -> None:
    if as_json:
        fields = ("id", "status", "attempts", "watcher", "channel", "target", "mode", "event_id", "next_attempt_at",
                  "sent_at", "last_error", "idempotency_key", "batch_key")
        print(json.dumps([{f: getattr(r, f) for f in fields} for r in rows], ensure_ascii=False, indent=2))
        return
    print(f"{'id':>6s} {'status':8s} {'try':>3s} {'watcher':16s} {'channel':8s} {'event':>6s} {'next/sent at':21s} target")
    for r in rows:
        when = r.sent_at if r.status == "sent" else r.next_attempt_at
        print(f"{r.id:6d} {r.status:8s} {r.attempts:3d} {r.watcher[:16]:16s} {r.channel:8s} {r.event_id or '':>6} "
              f"{when or '':21s} {r.target}")
        if r.last_error and r.status != "sent":
            print(f"{'':6s} └ {r.last_error[:200]}")


def cmd_deliveries(args: argparse.Namespace) -> int:
    from storage.outbox import list_deliveries, requeue, status_counts

    _, db = _open(args)
    try:
        if args.action == "retry":
            if not args.ids and not args.all_dead:
                print("yibao deliveries retry: give delivery ids or --all-dead", file=sys.stderr)
                return 2
            count = requeue(db, args.ids, all_dead=args.all_dead, now=datetime.now(UTC))
            print(f"requeued {count} deliveries")
            return 0 if count or args.all_dead else 1
        statuses = args.status or ["pending", "sending", "failed", "dead"]
        rows = list_deliveries(db, status=None if "all" in statuses else statuses, watcher=args.watcher)
        if args.limit is not None:
            rows = rows[-args.limit :]
        _print_deliveries(rows, args.json)
        if not args.json:
            counts = status_counts(db)
            print(" · ".join(f"{k} {v}" for k, v in counts.items()))
    finally:
        db.close()
    return 0


def cmd_alerts(args: argparse.Namespace) -> int:
    from alerts.dispatch import alerts_config, send_test

    config = alerts_config(load_registry(getattr(args, "config", None)))
    if args.action == "list":
        for w in config.watchers:
            channels = ", ".join(f"{c}:{t}" for c, t in w.targets())
            mode = f"digest ({w.digest_cron})" if w.mode == "digest" else "immediate"
            flags = (" ops" if w.ops else "") + ("" if w.enabled else " (disabled)")
            print(f"{w.name}{flags}: {mode}; events {', '.join(w.events)}; {channels}")
        return 0
    results = send_test(config, args.watcher)
    if args.json:
        print(json.dumps([r.__dict__ for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            print(f"{r.channel:8s} {r.target}: {'ok' if r.ok else 'FAILED'} — {r.detail}")
    return 0 if results and all(r.ok for r in results) else 1


def register(subparsers: Any) -> None:
    """Add ``dispatch``, ``deliveries`` and ``alerts`` to an ``argparse`` subparsers object."""
    p = subparsers.add_parser("dispatch", help="send due alerts (outbox), retrying failed ones with backoff")
    _common(p)
    p.add_argument("--json", action="store_true")
    p.add_argument("--now", help=argparse.SUPPRESS)  # an ISO UTC instant to dispatch at (tests, replays)
    p.set_defaults(func=cmd_dispatch, now=None)

    p = subparsers.add_parser("deliveries", help="list alert deliveries; 'deliveries retry' requeues")
    _common(p)
    group = p.add_mutually_exclusive_group()
    for status in ("pending", "failed", "dead", "sent"):
        group.add_argument(f"--{status}", dest="status", action="append_const", const=status,
                           help=f"only {status} deliveries")
    group.add_argument("--all", dest="status", action="append_const", const="all", help="every delivery")
    p.add_argument("--watcher")
    p.add_argument("--limit", type=int, help="the last N only")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_deliveries, action="list", ids=[], all_dead=False)
    actions = p.add_subparsers(dest="action")
    r = actions.add_parser("retry", help="requeue dead (or failed) deliveries now")
    _common(r)
    r.add_argument("ids", nargs="*", type=int, metavar="ID")
    r.add_argument("--all-dead", action="store_true", help="every dead delivery")

    p = subparsers.add_parser("alerts", help="watchers: send a test message, list")
    actions = p.add_subparsers(dest="action", required=True)
    t = actions.add_parser("test", help="send a test message through each channel of WATCHER")
    _common(t)
    t.add_argument("watcher")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=cmd_alerts)
    lst = actions.add_parser("list", help="list the configured watchers")
    _common(lst)
    lst.set_defaults(func=cmd_alerts)


def main(argv: list[str] | None = None) -> int:
    import logging

    parser = argparse.ArgumentParser(prog="yibao", description="Yibao Watch alerts")
    parser.add_argument("--config", help="user config file (default: $YIBAO_CONFIG or ./yibao.toml)")
    parser.add_argument("--log-level", default="WARNING")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args.func(args))
    except ConfigError as exc:
        print(f"yibao: config error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
