"""Scale-out end to end: ``yibao run`` queues, ``yibao worker`` processes crawl, ``yibao writer`` archives -- and the
archive equals what one ``yibao crawl`` process makes of the same portals, also after a kill -9 of a worker and of
the writer mid-crawl and a rerun (no event twice, no outbox row lost)."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from crawler.cluster import messages
from crawler.registry import load_registry
from tests.e2e.cluster.conftest import FAST, PORTALS, Cluster, contents, runs, yibao


def documents(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def crawling(cluster: Cluster, worker: subprocess.Popen[bytes]) -> bool:
    """Whether ``worker`` has a crawl running: a crawl it logged starting (``crawling <portal> (pid N)``; started
    warm, the crawl is the child of the worker's fork server, not of the worker) is alive."""
    log = cluster.folder / f"worker-{cluster.procs.index(worker)}.log"
    for pid in re.findall(r"crawling \S+ \(pid (\d+)\)", log.read_text(errors="replace")):
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            return True
    return False


def test_three_workers_make_the_archive_one_process_makes(cluster: Cluster, reference: dict[str, Any]) -> None:
    cluster.start_writer()
    cluster.start_workers(3)
    queued = cluster.enqueue()
    assert all(f"{p}" in queued for p in PORTALS), queued
    assert "queued" in queued
    cluster.wait_idle()
    got = contents(cluster.db)
    assert got == reference, {k: (got[k], reference[k]) for k in got if got[k] != reference[k]}
    assert all(health == "ok" for _, health, _ in runs(cluster.db)), runs(cluster.db)
    assert sorted(p for p, _, _ in runs(cluster.db)) == sorted(PORTALS)
    # the crawls ran on more than one worker, and no worker ever opened the archive (only the writer did)
    opened = {line.split(" opened by ")[1].strip() for line in cluster.logs().splitlines() if " opened by " in line}
    assert len(opened) >= 2, opened
    # runs, health and stats across workers: yibao status, and each run's stats as a local run records them
    done = yibao(cluster.config, "status", "--json")
    assert done.returncode == 0, done.stderr
    rows = {row["portal"]: row for row in json.loads(done.stdout)}
    assert all(rows[p]["health"] == "ok" and rows[p]["documents"] > 0 for p in PORTALS), rows
    with sqlite3.connect(cluster.db) as conn:
        stats = [json.loads(text) for (text,) in conn.execute("SELECT stats_json FROM runs")]
    assert sum(s.get("yibao/events/new", 0) for s in stats) == reference["events"]["new"]
    assert all(s["yibao/health"] == "ok" and s["yibao/documents"] > 0 and s["yibao/coverage"] for s in stats)
    client = cluster.redis.client
    assert client.xlen(messages.STREAM) == 0  # everything stored and acknowledged
    assert client.hlen(messages.RUNS) == 0
    # an unchanged second cycle costs what a single-process rerun costs: robots.txt, one request per list column,
    # a 304 for every known URL (the workers' conditional GETs come from the crawl state the scheduler queued)
    cluster.world.world.reset_stats()
    assert "queued" in cluster.enqueue(*PORTALS)
    cluster.wait_idle()
    config = load_registry(cluster.config)
    with sqlite3.connect(cluster.db) as conn:
        for portal_id, s in cluster.world.world.stats().items():
            if portal_id not in PORTALS:
                continue
            postings = conn.execute("SELECT COUNT(*) FROM postings WHERE portal_id = ?", [portal_id]).fetchone()[0]
            assert s["statuses"].get("304", 0) == postings, (portal_id, s)
            assert s["total"] == 1 + len(config.get(portal_id).columns) + postings, (portal_id, s)
    assert contents(cluster.db)["events"] == reference["events"]  # nothing new, nothing doubled
    assert not cluster.not_an_archive.parent.exists()  # the workers never opened an archive


def postings(db: Path, portal_id: str) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return int(conn.execute("SELECT COUNT(*) FROM postings WHERE portal_id = ?", [portal_id]).fetchone()[0])
    except sqlite3.Error:
        return 0


def test_kill_a_worker_and_the_writer_mid_crawl_then_rerun(cluster: Cluster, reference: dict[str, Any]) -> None:
    slow = "fujian_xiamen"  # crawled politely (one request at a time, 0.25 s apart): still running at the kill
    cluster.configure(slow={slow: {**FAST, "DOWNLOAD_DELAY": 0.25}})
    writer = cluster.start_writer()
    workers = cluster.start_workers(3, "--lock-ttl", "3")
    cluster.enqueue()
    deadline = time.monotonic() + 60
    while postings(cluster.db, slow) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    busy = [w for w in workers if crawling(cluster, w)]
    assert busy, cluster.logs()
    for victim in busy:  # the slow portal's worker (the others are done, or nearly), with its crawl
        os.killpg(victim.pid, signal.SIGKILL)
    os.killpg(writer.pid, signal.SIGKILL)  # and the writer, with stream entries read and not acknowledged, maybe
    for proc in (*busy, writer):
        proc.wait()
    assert 0 < postings(cluster.db, slow) < sum(portal == slow for _, portal, _ in reference["postings"])  # mid-crawl
    cluster.configure()  # the rest at full speed
    cluster.start_writer()  # reads what it had not acknowledged, then the rest
    cluster.wait_idle()  # the killed worker's run closed as interrupted once its lock expired
    health = runs(cluster.db)
    assert (slow, "failed", "interrupted") in health, health
    queued = cluster.enqueue()  # the rerun: what is due (the interrupted portal), resumed
    assert slow in queued
    cluster.wait_idle()
    got = contents(cluster.db)
    assert got == reference, {k: (got[k], reference[k]) for k in got if got[k] != reference[k]}
    assert runs(cluster.db)[-1] == (slow, "ok", "finished")
    with sqlite3.connect(cluster.db) as conn:  # no event twice, every event its outbox row
        assert conn.execute("SELECT COUNT(*) FROM (SELECT document_id, kind, version_id FROM events"
                            " GROUP BY 1, 2, 3 HAVING COUNT(*) > 1)").fetchone()[0] == 0
        assert conn.execute("SELECT COUNT(*) FROM events e LEFT JOIN outbox o ON o.event_id = e.id"
                            " WHERE o.id IS NULL").fetchone()[0] == 0
