"""Crawl benchmark: a full crawl of one large replica portal with politeness off, then an unchanged
incremental run. Prints documents/s, requests, peak RSS of the crawl process and requests per run."""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from replicas.server import ReplicaServer
from replicas.world import ReplicaWorld

PORTAL = "fujian_xiamen"


def crawl(config: Path, *extra: str) -> tuple[float, int]:
    start = time.perf_counter()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, "-m", "cli.main", "--config", str(config), "crawl", "--fast", PORTAL, *extra],
                   check=False, capture_output=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return time.perf_counter() - start, max(peak, before)


def main(docs: int = 50_000) -> None:
    world = ReplicaWorld(docs=docs, seed=3)
    n = len(world.docs(PORTAL))
    with ReplicaServer(world) as server, tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "yibao.toml"
        config.write_text(server.registry_toml(PORTAL, settings={"YIBAO_FETCH_ATTACHMENTS": True})
                          + f'\n[archive]\npath = "{tmp}/a.db"\n', encoding="utf-8")
        seconds, peak_kb = crawl(config, "--full")
        requests = world.stats(PORTAL)[PORTAL]["total"]
        print(f"full crawl of {PORTAL}: {n} documents, {requests} requests in {seconds:.1f} s "
              f"= {n / seconds:.1f} documents/s, {requests / seconds:.1f} requests/s; peak RSS {peak_kb / 1024:.0f} MiB")
        world.reset_stats()
        seconds, _ = crawl(config)
        stats = world.stats(PORTAL)[PORTAL]
        print(f"unchanged incremental run: {stats['total']} requests ({stats['statuses']}) in {seconds:.1f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 50_000)
