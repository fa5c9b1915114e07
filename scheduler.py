"""The scheduler: ``python scheduler.py`` (also ``yibao run``) and ``yibao run --once``.

Daemon: an APScheduler 3 ``BlockingScheduler`` in Asia/Shanghai time with one cron job per enabled
portal (jittered), the alert dispatcher every minute (it also sends digests when their time has
come) and a health check. Jobs are rebuilt from the registry at every start; run history lives in
the archive's ``runs`` table, so overdue portals are crawled soon after a start. SIGTERM/SIGINT:
stop starting jobs, stop running crawls cleanly within the grace period, flush the dispatcher, exit 0.

One-shot (cron / systemd timer): crawl what is due (or the given portals), dispatch, exit non-zero
if any portal failed.

Scale-out (``[cluster] redis_url`` in the config, docs/scale-out.md): a due portal is queued in Redis for the
``yibao worker`` processes instead of crawled here (``ops.cluster_writer.enqueue``: "queued", or "busy" while a
job of the portal is queued or running); ``yibao writer`` stores the results and closes the runs. The scheduler
still reads the archive (what is due, the crawl state it queues with a job) and dispatches the alerts.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from crawler.cluster.config import connect, redis_url
from crawler.launcher import warm_up
from crawler.registry import ConfigError, load_registry
from ops.jobs import SHANGHAI, close_stale_runs, due_portals, run_crawl, trigger_for
from ops.maintenance import complete_search_summary
from ops.portal_alerts import after_run, dispatch

log = logging.getLogger("yibao.scheduler")
GRACE_SECONDS = 60
JITTER_SECONDS = 120


class Runner:
    """Everything a job needs, built once from the registry and the command line."""

    def __init__(self, config_path: str | None, db_path: str | None, time_limit: float) -> None:
        self.config_path = config_path
        self.config = load_registry(config_path)
        from alerts.watchers import load_alerts

        load_alerts(self.config.raw)  # bad watcher config fails at start, naming the watcher and field
        self.db_path = Path(db_path or self.config.archive_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self.time_limit = time_limit
        self.stop = threading.Event()
        url = redis_url(self.config)
        self.cluster = connect(url) if url else None  # crawls go to the workers through Redis

    def crawl(self, portal_id: str) -> str:
        if self.stop.is_set():
            return "skipped"
        portal = self.config.get(portal_id)
        if self.cluster is not None:
            from ops.cluster_writer import enqueue

            job = enqueue(self.cluster, self.db_path, portal, time_limit=self.time_limit)
            log.info("crawl %s: %s", portal_id, f"queued as job {job}" if job else "busy (a job of it is queued or running)")
            return "queued" if job else "busy"
        outcome = run_crawl(portal, config_path=self.config_path, db_path=self.db_path,
                            time_limit=self.time_limit, stop=self.stop)
        if outcome.run_id is not None:
            after_run(self.db_path, self.config, portal_id)
        log.info("crawl %s: %s in %.1f s", portal_id, outcome.health, outcome.seconds)
        return outcome.health

    def dispatch(self) -> None:
        dispatch(self.db_path, self.config)

    def upkeep(self) -> None:
        """The archive's one-time upkeep after an upgrade (``ops.maintenance``); nothing when it is done."""
        complete_search_summary(self.db_path, self.stop)


def run_once(runner: Runner, portal_ids: list[str]) -> int:
    now = datetime.now(UTC)
    close_stale_runs(runner.db_path, now)
    portals = [runner.config.get(p) for p in portal_ids] if portal_ids else due_portals(runner.config, runner.db_path, now)
    if portals and runner.cluster is None:
        # the crawl server's imports (about a CPU-second) overlap the first crawl's set-up; a cron tick with
        # nothing due starts no server (its whole run: 0.65 CPU-s instead of 1.9, crawl_compare's "cron tick")
        warm_up()
    results = {p.id: runner.crawl(p.id) for p in portals}
    runner.dispatch()
    runner.upkeep()
    for portal_id, health in results.items():
        print(f"{portal_id:22s} {health}")
    if not portals:
        print("nothing due")
    return 1 if any(h in ("failed", "blocked") for h in results.values()) else 0


def build_scheduler(runner: Runner) -> BlockingScheduler:
    scheduler = BlockingScheduler(
        timezone=SHANGHAI,
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )
    soon = datetime.now(SHANGHAI) + timedelta(seconds=5)
    overdue = {p.id for p in due_portals(runner.config, runner.db_path, datetime.now(UTC))}
    for index, portal in enumerate(runner.config.enabled()):
        scheduler.add_job(runner.crawl, trigger_for(portal, jitter=JITTER_SECONDS), args=[portal.id],
                          id=f"crawl:{portal.id}", name=f"crawl {portal.id}")
        if portal.id in overdue:  # catch up once, staggered, soon after the start
            scheduler.add_job(runner.crawl, "date", run_date=soon + timedelta(seconds=20 * index),
                              args=[portal.id], id=f"catchup:{portal.id}")
    scheduler.add_job(runner.dispatch, "interval", minutes=1, id="dispatch", next_run_time=soon)
    scheduler.add_job(runner.upkeep, "date", run_date=soon + timedelta(seconds=30), id="upkeep")
    return scheduler


def run_daemon(runner: Runner) -> int:
    if runner.cluster is None:
        warm_up()  # the crawl server (crawler.launcher): its imports, once, before the first crawl is due
    close_stale_runs(runner.db_path, datetime.now(UTC))
    scheduler = build_scheduler(runner)

    def shutdown(signum: int, frame: Any) -> None:
        log.info("signal %s: stopping (grace %d s)", signum, GRACE_SECONDS)
        runner.stop.set()
        threading.Thread(target=scheduler.shutdown, kwargs={"wait": True}, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    print(f"yibao scheduler: {len(runner.config.enabled())} portals, archive {runner.db_path}", flush=True)
    scheduler.start()
    runner.dispatch()  # flush what the last runs queued
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scheduler.py", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return parser


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``python scheduler.py`` (``yibao run`` declares the same ones with click)."""
    parser.add_argument("portals", nargs="*", help="with --once: these portals (default: the due ones)")
    parser.add_argument("--once", action="store_true", help="crawl what is due, dispatch, exit (cron mode)")
    parser.add_argument("--config", help="user config file (default: $YIBAO_CONFIG, else ./yibao.toml)")
    parser.add_argument("--db", help="archive path (default: $YIBAO_DB, else the config's [archive] path)")
    parser.add_argument("--time-limit", type=float, default=3600.0, help="wall-clock limit of one crawl (s)")
    parser.add_argument("--log-level", default="INFO", type=str.upper,
                        choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))


def main(args: argparse.Namespace) -> int:
    """``python scheduler.py ARGS``: ``start`` with the parsed arguments."""
    return start(config_path=args.config, db_path=args.db or os.environ.get("YIBAO_DB"),
                 time_limit=args.time_limit, once=args.once, portals=args.portals, log_level=args.log_level)


def start(*, config_path: str | None, db_path: str | None, time_limit: float = 3600.0, once: bool = False,
          portals: list[str] | None = None, log_level: str = "INFO") -> int:
    """The daemon, or one ``--once`` pass; a config error is one line and exit status 2."""
    logging.basicConfig(level=log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger().setLevel(log_level)  # basicConfig does nothing when logging is configured already
    try:
        runner = Runner(config_path, db_path, time_limit)
    except ConfigError as exc:
        print(f"yibao: config error: {exc}", file=sys.stderr)
        return 2
    if runner.cluster is not None:
        from redis import RedisError

        try:
            runner.cluster.ping()
        except RedisError as exc:
            print(f"yibao: cannot reach Redis at [cluster] redis_url: {exc}", file=sys.stderr)
            return 2
    return run_once(runner, portals or []) if once else run_daemon(runner)


if __name__ == "__main__":
    raise SystemExit(main(build_parser().parse_args()))
