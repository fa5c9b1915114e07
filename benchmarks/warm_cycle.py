"""Crawls of one portal as the daemon runs them: each forked warm by ``crawler.launcher`` (``ops.jobs.run_crawl``),
politeness off as ``yibao crawl --fast`` has it. Prints one JSON line: each crawl's own CPU seconds (the run's
``yibao/cpu_seconds``, from the fork to the spider's close; and ``cpu_whole``, from the fork to the crawl
process's exit, read from the server's reaped children), its wall seconds (Scrapy's ``elapsed_time_seconds``),
its health and requests, and the server's one-time
start (its imports, paid once per daemon, not per crawl: the CPU of a process that imports ``crawler.preload``).

    python -m benchmarks.warm_cycle --config yibao.toml --portal bench [--cycles 1]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
from pathlib import Path

from crawler.launcher import warm_up
from crawler.registry import load_registry
from ops.jobs import run_crawl
from storage import get_run, open_db

FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False", "CONCURRENT_REQUESTS_PER_DOMAIN": "8"}


def server_start_cpu() -> float:
    """CPU seconds of a process that does what the server does once: import what a crawl imports."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", "import crawler.preload"], check=True, start_new_session=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def server_children_cpu() -> float | None:
    """CPU seconds of the crawls the warm server has forked and reaped so far (Linux: its ``/proc`` stat's
    cutime + cstime), None where it cannot be read. A crawl's whole cost, teardown included, is the
    difference across it (its own ``yibao/cpu_seconds`` is taken before its run is closed)."""
    from multiprocessing import forkserver

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--portal", required=True)
    parser.add_argument("--cycles", type=int, default=1)
    args = parser.parse_args(argv)
    os.environ["YIBAO_WARM_START"] = "1"
    config = load_registry(args.config)
    portal = config.get(args.portal)
    db_path = Path(config.archive_path)
    warm_up(wait=True)
    crawls = []
    for _ in range(args.cycles):
        before = server_children_cpu()
        outcome = run_crawl(portal, config_path=args.config, db_path=db_path, extra_settings=FAST, time_limit=600)
        after = server_children_cpu()
        db = open_db(db_path)
        try:
            run = get_run(db, outcome.run_id) if outcome.run_id is not None else None
        finally:
            db.close()
        stats = run.stats if run is not None else {}
        crawls.append({"health": outcome.health, "cpu": stats.get("yibao/cpu_seconds"),
                       "cpu_whole": None if before is None or after is None else round(after - before, 3),
                       "wall": stats.get("elapsed_time_seconds"),
                       "requests": stats.get("downloader/request_count")})  # fmt: skip
    print(json.dumps({"crawls": crawls, "server_start_cpu": round(server_start_cpu(), 3)}))


if __name__ == "__main__":
    main()
