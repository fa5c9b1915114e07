"""``yibao worker`` and ``yibao writer``: the two roles of a scale-out deployment (docs/scale-out.md). Both need
``[cluster] redis_url`` in the config; ``yibao run`` with it queues the due portals for the workers."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import click

from cli.app import App, CommandError, command

log = logging.getLogger("yibao.cluster")


def _redis(app: App) -> tuple[str, Any]:
    """The config's Redis URL and a client that answered a PING (else a one-line error, exit 2)."""
    import redis

    from crawler.cluster.config import connect, redis_url

    url = redis_url(app.config)
    if url is None:
        raise CommandError("needs [cluster] redis_url in the config (docs/scale-out.md)")
    client = connect(url)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise CommandError(f"cannot reach Redis at [cluster] redis_url: {exc}") from None
    return url, client


def _stop_on_signals() -> threading.Event:
    """An event that SIGTERM and SIGINT set (the first stops cleanly; a second SIGINT raises as usual)."""
    stop = threading.Event()

    def handler(signum: int, frame: Any) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        log.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


@command("worker", no_json="a worker prints its progress as log lines (see `yibao status --json`)",
         help="take crawl jobs from Redis and crawl them (never opens the archive)")  # fmt: skip
@click.option("--jobs", type=click.IntRange(1, 256), default=4, show_default=True, help="crawls at a time")
@click.option("--max-jobs", type=click.IntRange(1), default=None, help="exit after this many jobs (tests, batch use)")
@click.option("--lock-ttl", type=click.IntRange(2, 3600), default=30, show_default=True,
              help="seconds before the jobs of a worker that stopped answering are closed as interrupted")
def worker(app: App, jobs: int, max_jobs: int | None, lock_ttl: int) -> int:
    from crawler.cluster.worker import Worker

    level = app.configure_logging("INFO")
    url, client = _redis(app)
    runner = Worker(client, url, app.config, app.options.config, jobs=jobs, log_level=level, lock_ttl=lock_ttl)
    print(f"yibao worker {runner.name}: {jobs} crawls at a time", flush=True)
    runner.run(_stop_on_signals(), max_jobs=max_jobs)
    return 0


@command("writer", no_json="the writer prints its progress as log lines (see `yibao status --json`)",
         help="store what the workers fetched into the archive (the one process that writes it)")  # fmt: skip
@click.option("--until-idle", is_flag=True, help="exit once the stream is drained and no run is open")
def writer(app: App, until_idle: bool) -> int:
    from ops.cluster_writer import Writer

    app.configure_logging("INFO")
    _, client = _redis(app)
    runner = Writer(client, app.archive_path, app.config)
    print(f"yibao writer: archive {app.archive_path}", flush=True)
    try:
        stored = runner.run(_stop_on_signals(), until_idle=until_idle)
    finally:
        runner.close()
    log.info("writer: %d pages stored", stored)
    return 0
