"""Hostile-page probe: replica portals whose detail pages are hostile (``replicas.hostile``: empty and binary
answers, PNG, 5,000-deep nesting, mojibake, 100,000-character titles, pages without content, offsite redirects,
redirect loops, 20 MB bodies, gzip bombs, control characters, overlong titles), crawled by ``yibao crawl`` in a
subprocess. Prints: pages, crashes, hangs, errors by reason, garbage documents (must be 0), peak RSS of the crawl;
then how long a portal that never answers (and one that refuses connections) takes to end, and what it logs.

``python -m benchmarks.hostile_probe [--docs N] [--timeout S] [--skip-silent]`` (defaults: 400 documents, which
gives well over 300 hostile pages on the five portals; 300 s; the silent portal takes about a minute at the
default download timeout). ``tests/e2e/crawl/test_hostile.py`` runs the reduced form.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replicas.hostile import KINDS, REFUSED, kind_of, set_hostile
from replicas.server import ReplicaServer
from replicas.world import ReplicaWorld

PORTALS = ("fujian_xiamen", "fujian_ningde", "guangdong_zhongshan", "sichuan", "nhsa")
CONTROLS = [chr(c) for c in (*range(0, 9), *range(0x0B, 0x20), *range(0x7F, 0xA0))] + [
    chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
]
TITLE_LIMIT = 501  # a bounded title: 500 characters and the ellipsis
# the crawl in a wrapper that reports its own peak RSS (MiB) on stderr when it exits
# The crawl's own peak: VmHWM, the high-water mark of this process's memory since its exec. Not ru_maxrss: Linux
# carries the parent's high-water mark into a child across fork and exec, so a crawl started by a large test
# process reported that process's size (310-355 MiB seen in full test runs, for crawls that peaked at 180).
_WRAPPER = (
    "import atexit, re, sys\n"
    "def _peak():\n"
    "    with open('/proc/self/status', encoding='ascii') as status:\n"
    "        print('PEAK_RSS_MIB', int(re.search(r'VmHWM:\\s+(\\d+)', status.read()).group(1)) // 1024, file=sys.stderr)\n"
    "atexit.register(_peak)\n"
    "from cli.main import main\n"
    "sys.argv = ['yibao', *sys.argv[1:]]\n"
    "sys.exit(main())\n"
)


@dataclass
class Crawl:
    """One ``yibao crawl`` subprocess: its summary (None if it printed none), stderr, exit status, seconds,
    peak RSS in MiB (its VmHWM: sampled, and read by the process itself at exit), and whether it hung
    (was killed at the timeout)."""

    summary: dict[str, Any] | None
    stderr: str
    returncode: int | None
    seconds: float
    peak_rss_mib: int
    hung: bool


def crawl_measured(config: Path, portals: tuple[str, ...] = (), *, timeout: float = 300.0,
                   fast: bool = True) -> Crawl:  # fmt: skip
    """Run ``yibao crawl --json`` on ``config`` and measure it."""
    cmd = [sys.executable, "-c", _WRAPPER, "--config", str(config), "crawl", "--json", *(["--fast"] if fast else []),
           *portals]  # fmt: skip
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampled = [0]

    def sample() -> None:
        while proc.poll() is None:
            try:
                with open(f"/proc/{proc.pid}/status", encoding="ascii") as status:
                    for line in status:
                        if line.startswith("VmHWM:"):
                            sampled[0] = max(sampled[0], int(line.split()[1]) // 1024)
            except OSError:
                pass
            time.sleep(0.05)

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    hung = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        hung = True
        proc.kill()
        out, err = proc.communicate()
    watcher.join(1)
    reported = [int(line.split()[1]) for line in err.splitlines() if line.startswith("PEAK_RSS_MIB")]
    try:
        summary = json.loads(out) if out.strip() else None
    except json.JSONDecodeError:
        summary = None
    err = "\n".join(line for line in err.splitlines() if not line.startswith("PEAK_RSS_MIB"))
    return Crawl(summary, err, proc.returncode, time.monotonic() - started, max([sampled[0], *reported]), hung)


def hostile_server(docs: int, seed: int = 13, portals: tuple[str, ...] = PORTALS,
                   kinds: tuple[str, ...] = KINDS) -> ReplicaServer:  # fmt: skip
    """A started replica server whose ``portals`` serve ``kinds`` round robin instead of their articles."""
    server = ReplicaServer(ReplicaWorld(docs=docs, seed=seed)).start()
    for portal_id in portals:
        set_hostile(server.world, portal_id, kinds)
    return server


def write_config(directory: Path, server: ReplicaServer, portals: tuple[str, ...]) -> Path:
    path = directory / "yibao.toml"
    path.write_text(server.registry_toml(*portals) + f'\n[archive]\npath = "{directory / "archive.db"}"\n',
                    encoding="utf-8")  # fmt: skip
    return path


@dataclass
class Findings:
    """What a crawl of hostile portals left: the detail pages requested by kind, the runs' errors by reason,
    Scrapy's counted callback exceptions, and the garbage documents (url, why)."""

    pages: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)
    documents: Counter[str] = field(default_factory=Counter)  # stored documents by the kind of their page
    garbage: list[tuple[str, str]] = field(default_factory=list)
    runs: list[tuple[str, str, str]] = field(default_factory=list)  # (portal, finish reason, health)


def garbage_reason(kind: str, title: str, body: str) -> str | None:
    """Why a stored document is garbage: its page was of a refused kind, or its text is not clean."""
    if kind in REFUSED:
        return f"a {kind} page stored as a document"
    text = title + body
    if len(title) > TITLE_LIMIT:
        return f"a title of {len(title)} characters"
    bad = [c for c in CONTROLS if c in text and c not in "\t\n"]
    if bad:
        return f"control characters {bad!r}"
    if text.count("\ufffd") >= 10 or "锟斤拷" in text:
        return "replacement-character soup"
    return None


def inspect(db_path: Path, server: ReplicaServer, portals: tuple[str, ...]) -> Findings:
    world = server.world
    by_url: dict[str, str] = {}
    by_path: dict[tuple[str, str], str] = {}
    for portal_id in portals:
        for doc in world.docs(portal_id):
            kind = kind_of(world, doc.doc_id)
            for path in world.urls(doc.doc_id).values():
                by_url[server.urls[portal_id] + path] = kind
                by_path[(portal_id, path)] = kind
    found = Findings()
    stats = world.stats()
    for portal_id in portals:
        for path in stats[portal_id]["paths"]:
            if (portal_id, path) in by_path:
                found.pages[by_path[(portal_id, path)]] += 1
    with sqlite3.connect(db_path) as conn:
        for portal_id, reason, health, stats_json in conn.execute(
                "SELECT portal_id, finish_reason, health, stats_json FROM runs ORDER BY id"):  # fmt: skip
            found.runs.append((portal_id, reason, health))
            run_stats = json.loads(stats_json or "{}")
            for key, value in run_stats.items():
                if key.startswith("yibao/errors/"):
                    found.errors[key.removeprefix("yibao/errors/")] += int(value)
                elif key.startswith("spider_exceptions/"):
                    found.exceptions[key.removeprefix("spider_exceptions/")] += int(value)
        rows = conn.execute("SELECT p.url, d.title, COALESCE(v.body_text, '') FROM postings p"
                            " JOIN documents d ON d.id = p.document_id JOIN versions v ON v.id = d.latest_version_id")
        for url, title, body in rows:
            kind = by_url.get(url, "ok")
            found.documents[kind] += 1
            why = garbage_reason(kind, title, body)
            if why:
                found.garbage.append((url, why))
    return found


def report(crawl: Crawl, found: Findings) -> list[str]:
    crashes = (crawl.returncode not in (0, 1)) + crawl.stderr.count("Traceback") + sum(found.exceptions.values())
    return [
        f"pages: {sum(found.pages.values())} detail pages requested "
        f"({', '.join(f'{k} {n}' for k, n in sorted(found.pages.items()))})",
        f"crashes: {crashes} (exit status {crawl.returncode}, {crawl.stderr.count('Traceback')} tracebacks, "
        f"callback exceptions {dict(found.exceptions) or 0})",
        f"hangs: {int(crawl.hung)} (crawl took {crawl.seconds:.1f} s)",
        f"errors by reason: {sum(found.errors.values())} "
        f"({', '.join(f'{k} {n}' for k, n in sorted(found.errors.items()))})",
        f"documents stored: {sum(found.documents.values())} ({', '.join(f'{k} {n}' for k, n in sorted(found.documents.items()))})",
        f"garbage documents: {len(found.garbage)}" + "".join(f"\n  {url}: {why}" for url, why in found.garbage[:20]),
        f"peak RSS of the crawl: {crawl.peak_rss_mib} MiB",
        f"runs: {', '.join(f'{p} {h} ({r})' for p, r, h in found.runs)}",
    ]


def probe(directory: Path, docs: int, *, portals: tuple[str, ...] = PORTALS, timeout: float = 300.0,
          seed: int = 13) -> tuple[Crawl, Findings]:  # fmt: skip
    server = hostile_server(docs, seed, portals)
    try:
        config = write_config(directory, server, portals)
        crawl = crawl_measured(config, portals, timeout=timeout)
        return crawl, inspect(directory / "archive.db", server, portals)
    finally:
        server.stop()


def silent_portal(directory: Path, download_timeout: float, *, listening: bool = True) -> tuple[Crawl, list[str]]:
    """Crawl a portal whose host accepts connections and never answers (``listening``), or refuses them, at
    polite speed (no ``--fast``): the crawl, and its log lines (the per-portal progress line left out)."""
    import socket

    from replicas.registry import registry_toml

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        if listening:
            sock.listen(64)  # the kernel completes the handshakes; nobody reads or answers
        else:
            sock.close()  # nobody listens there: refused
        config = directory / "silent.toml"
        config.write_text(registry_toml({PORTALS[0]: f"http://127.0.0.1:{port}"}, [PORTALS[0]],
                                        settings={"DOWNLOAD_TIMEOUT": download_timeout})
                          + f'\n[archive]\npath = "{directory / "silent.db"}"\n', encoding="utf-8")  # fmt: skip
        crawl = crawl_measured(config, (PORTALS[0],), timeout=900, fast=False)
    lines = [line for line in crawl.stderr.splitlines() if line.strip() and not line.startswith("crawl ")]
    return crawl, lines


def main(argv: list[str] | None = None) -> None:
    import tempfile

    parser = argparse.ArgumentParser(prog="python -m benchmarks.hostile_probe", description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=400, help="documents in the replica world (all portals)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before the crawl counts as hung")
    parser.add_argument("--download-timeout", type=float, default=30.0,
                        help="DOWNLOAD_TIMEOUT for the silent portal (Scrapy's and the project's default: 30)")
    parser.add_argument("--skip-silent", action="store_true", help="leave out the silent and refusing portals")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        crawl, found = probe(Path(tmp), args.docs, timeout=args.timeout)
        print(f"hostile probe: {len(PORTALS)} portals, {args.docs} documents, kinds: {', '.join(KINDS)}")
        for line in report(crawl, found):
            print(line)
        if args.skip_silent:
            return
        for listening, what in ((True, "accepts connections, never answers"), (False, "refuses connections")):
            silent, lines = silent_portal(Path(tmp), args.download_timeout, listening=listening)
            run = silent.summary[PORTALS[0]] if silent.summary else {}
            print(f"a portal that {what} (DOWNLOAD_TIMEOUT {args.download_timeout:g} s): {run.get('health')} "
                  f"({run.get('reason')}) after {silent.seconds:.1f} s, {len(lines)} log line(s), "
                  f"{silent.stderr.count('Traceback')} tracebacks" + "".join(f"\n  {line}" for line in lines[:3]))


if __name__ == "__main__":
    main()
