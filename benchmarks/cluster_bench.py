"""Scale-out benchmark: 20 replica portals crawled with per-host politeness on by 1, 2 and 3 ``yibao worker``
processes (each ``--jobs`` crawls at a time) into one archive through one ``yibao writer``; then the writer alone
draining a stream of documents.

    .venv/bin/python -m benchmarks.cluster_bench [--docs 100] [--jobs 4] [--workers 1,2,3] [--writer-docs 3000]

Needs Debian's ``redis-server`` (started here on a free port of 127.0.0.1). Four replica worlds serve the five
replica portals each (renamed ``<portal>_<n>``: 20 portals, each its own port). Politeness is the project's default
(robots.txt, one request at a time per portal, ``DOWNLOAD_DELAY`` 1 s with jitter, AutoThrottle): a portal's
crawl is paced by it, so more workers crawl more portals at a time.

Prints, per worker count: wall time from queueing to the last run closed, pages (requests the portals answered),
documents, CPU seconds of the workers and their crawls (and of the writer), CPU per page; then the writer's
sustained documents/s on ``--writer-docs`` new documents (``record_batch`` through the stream, events and
outbox rows included), and what the figures mean for N machines.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis

from crawler.cluster import messages
from ops.cluster_writer import wait_idle
from replicas.ports import free_port
from replicas.registry import portal_entries, render_toml
from replicas.server import ReplicaServer
from replicas.world import ReplicaWorld

WORLDS = 4  # x 5 replica portals = 20 portals


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def config_text(servers: list[ReplicaServer], folder: Path, url: str) -> str:
    entries = []
    for n, server in enumerate(servers, start=1):
        for portal_id, entry in portal_entries(server.urls).items():
            entries.append({**entry, "id": f"{portal_id}_{n}"})
    return render_toml(entries) + f'\n[archive]\npath = "{folder / "archive.db"}"\n\n[cluster]\nredis_url = "{url}"\n'


def yibao(config: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "cli.main", "--config", str(config), "--log-level", "WARNING",
                             *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)  # fmt: skip


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(120)


def count(db: Path, sql: str) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute(sql).fetchone()[0])


def crawl_round(servers: list[ReplicaServer], client: redis.Redis, url: str, workers: int, jobs: int,
                folder: Path, *, again: bool = False) -> dict[str, Any]:  # fmt: skip
    """One crawl cycle of every portal by ``workers`` workers and the writer: the first (a fresh archive), or
    ``again`` (an unchanged cycle over the same archive: lists and 304s)."""
    config = folder / "yibao.toml"
    if not again:
        client.flushall()
        folder.mkdir()
        config.write_text(config_text(servers, folder, url), encoding="utf-8")
    for server in servers:
        server.world.reset_stats()
    writer = yibao(config, "writer")
    crews = [yibao(config, "worker", "--jobs", str(jobs)) for _ in range(workers)]
    time.sleep(1.0)  # let them start (their start-up is counted in their CPU, not in the wall time)
    portals = [f"{pid}_{n}" for n, server in enumerate(servers, start=1) for pid in server.urls] if again else []
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "cli.main", "--config", str(config), "run", "--once", *portals],
                          capture_output=True, text=True, check=False)  # fmt: skip
    queued = done.stdout.count("queued")
    if not wait_idle(client, timeout=3600, poll=0.5):
        raise RuntimeError("the cluster did not finish")
    wall = time.perf_counter() - started
    before = cpu_children()
    for crew in crews:
        stop(crew)
    workers_cpu = cpu_children() - before
    before = cpu_children()
    stop(writer)
    writer_cpu = cpu_children() - before
    pages = sum(s["total"] for server in servers for s in server.world.stats().values())
    db = folder / "archive.db"
    return {"workers": workers, "queued": queued, "wall": wall, "pages": pages,
            "documents": count(db, "SELECT COUNT(*) FROM documents"),
            "runs_ok": count(db, "SELECT COUNT(*) FROM runs WHERE health = 'ok'"),
            "workers_cpu": workers_cpu, "writer_cpu": writer_cpu}  # fmt: skip


def overhead_round(servers: list[ReplicaServer], client: redis.Redis, url: str, folder: Path,
                   jobs: int = 5) -> tuple[float, float]:  # fmt: skip
    """(CPU seconds of a worker's start and stop, CPU seconds of one crawl job apart from its pages): a worker
    alone, then ``jobs`` jobs of portals that do not answer (each ends after two refused connections)."""
    client.flushall()
    folder.mkdir()
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    entries = [{**entry, "id": f"dead_{n}", "base_url": dead}
               for n, entry in enumerate(list(portal_entries(servers[0].urls).values()) * 2)][:jobs]  # fmt: skip
    config = folder / "yibao.toml"
    config.write_text(render_toml(entries) + f'\n[archive]\npath = "{folder / "archive.db"}"\n\n[cluster]\n'
                      f'redis_url = "{url}"\n', encoding="utf-8")  # fmt: skip
    before = cpu_children()
    idle = yibao(config, "worker")
    time.sleep(3.0)
    stop(idle)
    start_cpu = cpu_children() - before
    writer = yibao(config, "writer")
    worker = yibao(config, "worker", "--jobs", str(jobs))
    time.sleep(1.0)
    subprocess.run([sys.executable, "-m", "cli.main", "--config", str(config), "run", "--once"], capture_output=True,
                   check=False)  # fmt: skip
    if not wait_idle(client, timeout=600, poll=0.5):
        raise RuntimeError("the cluster did not finish")
    before = cpu_children()
    stop(worker)
    jobs_cpu = cpu_children() - before - start_cpu
    stop(writer)
    return start_cpu, jobs_cpu / jobs


def writer_round(client: redis.Redis, source: Path, folder: Path, total: int) -> dict[str, Any]:
    """``total`` new documents (variants of the crawled ones: other URL, 文号 and text) through the stream into a
    fresh archive by one writer; documents/s from its start to the stream drained."""
    client.flushall()
    folder.mkdir()
    with sqlite3.connect(source) as conn:
        rows = conn.execute("SELECT v.record_json, v.body_text, p.column_name FROM versions v"
                            " JOIN postings p ON p.document_id = v.document_id GROUP BY v.id").fetchall()  # fmt: skip
    config = folder / "yibao.toml"
    config.write_text((source.parent / "yibao.toml").read_text(encoding="utf-8").replace(
        str(source.parent / "archive.db"), str(folder / "archive.db")), encoding="utf-8")  # fmt: skip
    job = "bench-writer"
    portal = json.loads(rows[0][0])["portal_id"]
    client.xadd(messages.STREAM, messages.encode(messages.OPEN, job, {"portal": portal}))  # type: ignore[arg-type]
    for n in range(total):
        record_json, body, column = rows[n % len(rows)]
        data = json.loads(record_json)
        data["body_text"] = f"{body}\n（第{n}份）"
        data["url"] = f"{data['url']}?copy={n}"
        data["portal_id"] = portal
        data["doc_no"] = f"基准〔2026〕{n}号"
        data["index_no"] = f"BENCH-{n}"
        data["proposal_no"] = None
        data["title"] = f"{data['title']}（{n}）"
        rec = messages.record_from_dict(data)
        client.xadd(messages.STREAM, messages.encode(messages.DOC, job, messages.doc_message(  # type: ignore[arg-type]
            rec.url, rec, column=column, etag=None, last_modified=None)))
    client.set(messages.lock_key(portal), job)
    stats = {"downloader/response_count": total, "yibao/list_pages": 1, "yibao/listed": total,
             "yibao/documents": total}  # fmt: skip
    client.xadd(messages.STREAM, messages.encode(messages.CLOSE, job, {  # type: ignore[arg-type]
        "portal": portal, "reason": "finished", "stats": stats, "listed": [], "gone": []}))
    from crawler.registry import load_registry
    from ops.cluster_writer import Writer

    writer = Writer(client, folder / "archive.db", load_registry(config))  # in this process: no start-up counted
    cpu, started = time.process_time(), time.perf_counter()
    writer.prepare()
    while client.xlen(messages.STREAM) or writer.runs:  # until the last entry is stored and the run closed
        writer.step()
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    writer.close()
    db = folder / "archive.db"
    return {"documents": count(db, "SELECT COUNT(*) FROM documents"), "wall": wall, "cpu": cpu,
            "events": count(db, "SELECT COUNT(*) FROM events")}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100, help="documents per replica world (5 portals)")
    parser.add_argument("--jobs", type=int, default=4, help="crawls at a time per worker")
    parser.add_argument("--workers", default="1,2,3", help="worker counts to compare")
    parser.add_argument("--writer-docs", type=int, default=3000)
    args = parser.parse_args(argv)
    binary = shutil.which("redis-server")
    if binary is None:
        print("redis-server is not installed (Debian's redis-server package; make system-deps): nothing measured")
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        server_proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                        "--appendonly", "no", "--dir", tmp], stdout=subprocess.DEVNULL)  # fmt: skip
        url = f"redis://127.0.0.1:{port}/0"
        client = redis.Redis.from_url(url)
        servers = [ReplicaServer(ReplicaWorld(docs=args.docs, seed=100 + n)).start() for n in range(WORLDS)]
        try:
            for _ in range(100):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            print(f"{WORLDS * 5} replica portals, politeness on (DOWNLOAD_DELAY 1 s ± 50 %, one request at a time per "
                  f"portal, AutoThrottle), {args.jobs} crawls at a time per worker; {os.cpu_count()} CPUs here")
            print(f"{'workers':>7} {'wall s':>7} {'pages':>6} {'docs':>5} {'runs ok':>7} {'pages/s':>7} "
                  f"{'worker CPU s':>12} {'CPU ms/page':>11} {'writer CPU s':>12}")
            results = []

            def show(label: str, r: dict[str, Any]) -> None:
                print(f"{label:>7} {r['wall']:7.1f} {r['pages']:6d} {r['documents']:5d} {r['runs_ok']:7d} "
                      f"{r['pages'] / r['wall']:7.1f} {r['workers_cpu']:12.1f} "
                      f"{1000 * r['workers_cpu'] / max(r['pages'], 1):11.1f} {r['writer_cpu']:12.1f}", flush=True)

            for n in (int(x) for x in args.workers.split(",")):
                r = crawl_round(servers, client, url, n, args.jobs, base / f"w{n}")
                results.append(r)
                show(str(n), r)
            first = results[0]
            last = results[-1]
            again = crawl_round(servers, client, url, last["workers"], args.jobs, base / f"w{last['workers']}",
                                again=True)  # fmt: skip
            show(f"{last['workers']} again", again)
            start_cpu, per_job = overhead_round(servers, client, url, base / "overhead")
            print(f"fixed costs: a worker's start and stop {start_cpu:.2f} s CPU; a crawl job {per_job:.2f} s CPU "
                  f"apart from its pages (its own Scrapy process, robots.txt, the run's open and close)")

            def per_page(r: dict[str, Any]) -> float:
                net = r["workers_cpu"] - r["workers"] * start_cpu - r["queued"] * per_job
                return max(net, 0.0) / max(r["pages"], 1)

            for r, what in ((first, "first cycle (documents fetched and parsed)"), (again, "unchanged cycle (304s)")):
                print(f"CPU per page, {what}: {1000 * per_page(r):.1f} ms, "
                      f"{r['pages'] / max(r['queued'], 1):.1f} requests a portal")
            w = writer_round(client, base / f"w{first['workers']}" / "archive.db", base / "writer", args.writer_docs)
            print(f"writer alone: {w['documents']} new documents (and {w['events']} events, outbox rows with them) "
                  f"in {w['wall']:.1f} s = {w['documents'] / w['wall']:.0f} documents/s sustained, "
                  f"{1000 * w['cpu'] / max(w['documents'], 1):.2f} ms CPU per document")
            print(f"speed-up {first['workers']} -> {last['workers']} workers: {first['wall'] / last['wall']:.2f}x "
                  f"({first['workers'] * args.jobs} -> {last['workers'] * args.jobs} portals crawled at a time: each "
                  f"crawl is paced by its portal's politeness, not by the CPU)")
            rate = w["documents"] / w["wall"]
            page, cycle = per_page(first), again["pages"] / max(again["queued"], 1)
            print(f"for N machines: a polite portal yields ~1 page/s, ~{1000 * page:.0f} ms CPU a second, so a core "
                  f"keeps ~{0.7 / page:.0f} portal crawls busy at 70 % (each also costs {per_job:.1f} s CPU to start); "
                  f"an unchanged cycle of 3,200 portals (~{cycle:.0f} requests each here) costs "
                  f"~{3200 * (per_job + per_page(again) * cycle) / 3600:.1f} CPU-hours; one writer stores ~{rate:.0f} "
                  f"new documents/s (~{rate * 3600 / 1e6:.2f} million an hour)")
        finally:
            for server in servers:
                server.stop()
            client.close()
            server_proc.terminate()
            server_proc.wait(10)


if __name__ == "__main__":
    main()
