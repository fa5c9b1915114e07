"""The alerts on the command line: ``dispatch``, ``deliveries [retry]``, ``alerts test|list`` and ``feed``.

    yibao dispatch [--json]                       send what is due, print a report
    yibao deliveries [--pending|--failed|--dead|--sent|--all] [--watcher W] [--limit N] [--json]
    yibao deliveries retry ID [ID ...] | --all-dead
    yibao alerts test WATCHER [--json]            a test message through each channel, one result each
    yibao alerts list [--json]                    the configured watchers (validates the config)
    yibao feed [WATCHER] [-o FILE]                Atom feed of the archive's changes, or of one watcher's

``python -m cli.alerts ARGS`` is ``yibao ARGS``.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from cli.app import App, CommandError, command, group

__all__ = ["alerts", "deliveries", "dispatch", "feed"]

STATUSES = ("pending", "failed", "dead", "sent")


@command("dispatch", help="send due alerts (outbox), retrying failed ones with backoff")
@click.option("--now", hidden=True, help="an ISO UTC instant to dispatch at (tests, replays)")
def dispatch(app: App, now: str | None) -> int:
    from alerts.dispatch import dispatch_due

    at = datetime.fromisoformat(now.replace("Z", "+00:00")) if now else None
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    alerts_config = app.alerts
    with app.archive(create=True) as db:  # the crawls may not have run yet: an empty outbox is no error
        report = dispatch_due(db, alerts_config, at)
    if app.options.json:
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
    tty = sys.stdout.isatty()  # off a terminal nothing is cut short
    name = max([16, *(len(r.watcher) for r in rows)]) if not tty else 16
    print(f"{'id':>6s} {'status':8s} {'try':>3s} {'watcher':{name}s} {'channel':8s} {'event':>6s} {'next/sent at':21s} "
          "target")
    for r in rows:
        when = r.sent_at if r.status == "sent" else r.next_attempt_at
        print(f"{r.id:6d} {r.status:8s} {r.attempts:3d} {r.watcher[:name]:{name}s} {r.channel:8s} "
              f"{r.event_id or '':>6} {when or '':21s} {r.target}")
        if r.last_error and r.status != "sent":
            print(f"{'':6s} └ {r.last_error[:200] if tty else r.last_error}")


@group("deliveries", invoke_without_command=True, help="list alert deliveries; 'deliveries retry' requeues")
@click.option("--pending", is_flag=True, help="only pending deliveries")
@click.option("--failed", is_flag=True, help="only failed deliveries")
@click.option("--dead", is_flag=True, help="only dead deliveries")
@click.option("--sent", is_flag=True, help="only sent deliveries")
@click.option("--all", "all_", is_flag=True, help="every delivery")
@click.option("--watcher", help="only this watcher's")
@click.option("--limit", type=int, help="the last N only")
def deliveries(app: App, pending: bool, failed: bool, dead: bool, sent: bool, all_: bool, watcher: str | None,
               limit: int | None) -> int:  # fmt: skip
    """Without a subcommand: the deliveries still to do (pending, sending, failed, dead) or the chosen ones."""
    if click.get_current_context().invoked_subcommand is not None:
        return 0
    from storage.outbox import list_deliveries, status_counts

    chosen = [s for s, on in zip((*STATUSES, "all"), (pending, failed, dead, sent, all_), strict=True) if on]
    if len(chosen) > 1:
        raise CommandError(f"choose one of --pending, --failed, --dead, --sent, --all (got {len(chosen)})")
    statuses = chosen or ["pending", "sending", "failed", "dead"]
    with app.archive() as db:
        rows = list_deliveries(db, status=None if "all" in statuses else statuses, watcher=watcher)
        if limit is not None:
            rows = rows[-limit:]
        _print_deliveries(rows, app.options.json)
        if not app.options.json:
            print(" · ".join(f"{k} {v}" for k, v in status_counts(db).items()))
    return 0


@command("retry", help="requeue dead (or failed) deliveries now")
@click.argument("ids", metavar="[ID]...", nargs=-1, type=int)
@click.option("--all-dead", is_flag=True, help="every dead delivery")
def retry(app: App, ids: tuple[int, ...], all_dead: bool) -> int:
    """Exit status 1 when none of the given ids could be requeued."""
    from storage.outbox import requeue

    if not ids and not all_dead:
        raise CommandError("give delivery ids or --all-dead")
    with app.archive() as db:
        count = requeue(db, list(ids), all_dead=all_dead, now=datetime.now(UTC))
    if app.options.json:
        print(json.dumps({"requeued": count}))
    else:
        print(f"requeued {count} deliveries")
    return 0 if count or all_dead else 1


deliveries.add_command(retry)


@group("alerts", help="watchers: send a test message, list")
def alerts(app: App) -> int:
    return 0


@command("test", help="send a test message through each channel of WATCHER")
@click.argument("watcher")
def alerts_test(app: App, watcher: str) -> int:
    """Exit status 1 when a channel failed (or the watcher has none), 2 for an unknown watcher."""
    from alerts.dispatch import send_test

    results = send_test(app.alerts, watcher)
    if app.options.json:
        print(json.dumps([r.__dict__ for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            print(f"{r.channel:8s} {r.target}: {'ok' if r.ok else 'FAILED'} — {r.detail}")
    return 0 if results and all(r.ok for r in results) else 1


@command("list", help="list the configured watchers (validates the config)")
def alerts_list(app: App) -> int:
    watchers = app.alerts.watchers
    if app.options.json:  # targets(), not the apprise URLs: those carry tokens
        print(json.dumps([{"name": w.name, "enabled": w.enabled, "ops": w.ops, "mode": w.mode,
                           "digest_cron": w.digest_cron, "events": list(w.events), "portals": list(w.portals),
                           "regions": list(w.regions), "kinds": list(w.kinds), "keywords": list(w.keywords),
                           "query": w.query, "classes": list(w.classes),
                           "targets": [{"channel": c, "target": t} for c, t in w.targets()]} for w in watchers],
                         ensure_ascii=False, indent=2))  # fmt: skip
        return 0
    for w in watchers:
        channels = ", ".join(f"{c}:{t}" for c, t in w.targets())
        mode = f"digest ({w.digest_cron})" if w.mode == "digest" else "immediate"
        flags = (" ops" if w.ops else "") + ("" if w.enabled else " (disabled)")
        print(f"{w.name}{flags}: {mode}; events {', '.join(w.events)}; {channels}")
    return 0


alerts.add_command(alerts_test)
alerts.add_command(alerts_list)


@command("feed", no_json="an Atom feed is XML (`yibao events --json` lists the changes as JSON)",
         help="Atom feed of the archive's changes, or of one watcher's")  # fmt: skip
@click.argument("watcher", required=False)
@click.option("-o", "--output", metavar="FILE", help="write to this file (default: stdout)")
def feed(app: App, watcher: str | None, output: str | None) -> int:
    from alerts.feeds import build_feed, watcher_events

    chosen = None
    if watcher:
        chosen = next((w for w in app.alerts.watchers if w.name == watcher), None)
        if chosen is None:
            raise CommandError(f"no watcher named {watcher!r}")
    with app.archive() as db:
        if chosen is not None:
            xml = build_feed(db, title=f"Yibao Watch: {chosen.name}", events=watcher_events(db, chosen),
                             feed_id=f"tag:yibao-watch,2026:feed/{chosen.name}")  # fmt: skip
        else:
            xml = build_feed(db)
    if output:
        Path(output).write_bytes(xml)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(xml)
    return 0


if __name__ == "__main__":  # run as `python -m cli.main` (no import of cli.main here: it imports this module)
    import runpy

    runpy.run_module("cli.main", run_name="__main__")
