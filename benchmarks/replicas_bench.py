"""Replica benchmarks: corpus generation speed and memory, and how fast one portal serves pages.

    .venv/bin/python -m benchmarks.replicas_bench [--docs 100000] [--requests 2000] [--concurrency 8]
                                                  [--portal fujian_xiamen] [--world-docs 2000] [--identity]

Prints figures only (no asserts):

1. generation: time to generate ``--docs`` documents with ``CorpusGenerator`` (kept in memory), docs/s,
   and the growth of the process's peak RSS while doing so;
2. serving: requests/s of one replica portal for detail pages and for list pages, under a bounded
   concurrent load (``--requests`` each, ``--concurrency`` workers, aiohttp client on 127.0.0.1),
   and the list/detail ratio. The server runs in a child process so that client and server do not
   share one GIL; by default the client asks for gzip, as a crawler does (``--identity``: no gzip).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import resource
import statistics
import time
from collections import Counter
from multiprocessing.connection import Connection

import aiohttp

from replicas.corpus import CorpusGenerator


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def bench_generation(count: int, seed: int) -> None:
    gc.collect()
    before = peak_rss_mib()
    started = time.perf_counter()
    docs = list(CorpusGenerator(seed).generate(count))
    elapsed = time.perf_counter() - started
    grown = peak_rss_mib() - before
    blocks = sum(len(d.blocks) for d in docs)
    files = sum(len(d.attachments) for d in docs)
    print(
        f"generation   {count:,} documents in {elapsed:.2f} s = {count / elapsed:,.0f} docs/s "
        f"({elapsed / count * 1e3:.3f} ms/doc); {blocks:,} paragraphs, {files:,} PDF attachments"
    )
    print(
        f"             peak RSS {before:,.0f} → {peak_rss_mib():,.0f} MiB (+{grown:,.0f} MiB, "
        f"{grown * 1024 * 1024 / count:,.0f} B/doc)"
    )
    del docs
    gc.collect()


def serve(conn: Connection, world_docs: int, seed: int, portal_id: str) -> None:
    """Child process: build a world, serve it, send back the URLs to load, wait for 'stop'."""
    from replicas.server import ReplicaServer
    from replicas.sites.base import page_count
    from replicas.world import ReplicaWorld

    world = ReplicaWorld(docs=world_docs, seed=seed)
    server = ReplicaServer(world).start()
    site = world.site(portal_id)
    base = server.urls[portal_id]
    details = [base + site.primary_path(d) for d in world.docs(portal_id)]
    lists = []
    for column in site.bureau.columns:
        first = site.column_path(column.key)
        pages = page_count(len(site.listed(column.key)), site.page_size)
        lists.append(base + first)
        for n in range(2, pages + 1):  # page 2.. in the family's own dialect
            if site.family == "trs":
                lists.append(base + first + f"index_{n - 1}.htm")
            elif site.family == "sichuan":
                lists.append(base + first.replace("list.shtml", f"list_{n}.shtml"))
            elif site.family == "gkmlpt":
                lists.append(base + first.replace("index.html", f"index_{n}.html"))
            elif site.family == "hanweb":
                lists.append(base + first + f"?uid=0&pageNum={n}")
    conn.send({"details": details, "lists": lists, "family": site.family, "docs": len(world.docs(portal_id))})
    conn.recv()
    server.stop()


async def load(
    urls: list[str], total: int, concurrency: int, gzip: bool
) -> tuple[float, Counter[int], list[float]]:
    """``total`` GETs cycling over ``urls`` with ``concurrency`` workers; (seconds, statuses, latencies)."""
    statuses: Counter[int] = Counter()
    latencies: list[float] = []
    headers = {"Accept-Encoding": "gzip" if gzip else "identity", "User-Agent": "yibao-watch-bench"}
    next_index = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal next_index
        while next_index < total:
            url = urls[next_index % len(urls)]
            next_index += 1
            t0 = time.perf_counter()
            async with session.get(url, headers=headers) as resp:
                await resp.read()
                statuses[resp.status] += 1
            latencies.append(time.perf_counter() - t0)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, auto_decompress=True) as session:
        async with session.get(urls[0], headers=headers) as warm:  # one warm-up request
            await warm.read()
        started = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return elapsed, statuses, latencies


def bench_serving(args: argparse.Namespace) -> None:
    parent, child = mp.Pipe()
    proc = mp.get_context("fork").Process(target=serve, args=(child, args.world_docs, args.seed, args.portal))
    proc.start()
    try:
        info = parent.recv()
        print(
            f"serving      portal {args.portal} [{info['family']}], {info['docs']} documents "
            f"(world of {args.world_docs:,}), {args.requests:,} requests per kind, concurrency "
            f"{args.concurrency}, {'gzip' if not args.identity else 'identity'}; server in a child process"
        )
        rates = {}
        for kind in ("details", "lists"):
            elapsed, statuses, latencies = asyncio.run(
                load(info[kind], args.requests, args.concurrency, not args.identity)
            )
            rates[kind] = args.requests / elapsed
            lat = sorted(latencies)
            print(
                f"  {kind[:-1]:7s} pages  {rates[kind]:8,.0f} req/s  ({len(info[kind])} distinct URLs, "
                f"p50 {statistics.median(lat) * 1e3:.1f} ms, p95 {lat[int(len(lat) * 0.95)] * 1e3:.1f} ms, "
                f"statuses {dict(statuses)})"
            )
        print(f"  list/detail ratio {rates['lists'] / rates['details']:.2f}")
    finally:
        parent.send("stop")
        proc.join(30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.replicas_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--docs", type=int, default=100_000, help="documents to generate")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--requests", type=int, default=2000, help="requests per page kind")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--portal", default="fujian_xiamen")
    parser.add_argument("--world-docs", type=int, default=2000, help="documents in the served world")
    parser.add_argument("--identity", action="store_true", help="do not ask for gzip")
    args = parser.parse_args(argv)
    bench_generation(args.docs, args.seed)
    bench_serving(args)


if __name__ == "__main__":
    main()
