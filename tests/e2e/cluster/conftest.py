"""The scale-out roles end to end: a real Redis (Debian's ``redis-server``, started here on a free port of
127.0.0.1), replica portals, and ``yibao run`` / ``yibao worker`` / ``yibao writer`` as processes.

``redis_server``  one redis-server for the folder (no persistence), flushed before each test that asks for it
``world``         replica portals (a small corpus, three portals) shared by the folder
``reference``     the archive a single-process ``yibao crawl`` makes of ``world``: what the cluster must equal
``Cluster``       a config for a test folder, the roles as subprocesses, and the archive's contents to compare
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from replicas.ports import free_port
from replicas.registry import portal_entries, render_toml
from replicas.server import ReplicaServer
from replicas.world import ReplicaWorld
from tests.e2e import warm

REDIS_SERVER = shutil.which("redis-server")
PORTALS = ("fujian_xiamen", "guangdong_zhongshan", "sichuan")
# no delays, but one request at a time per portal: the order of the fetches, and so which of a document's two
# postings (中山's gkmlpt and NFCMS pages) is seen first, is the same in every crawl
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS": 1, "CONCURRENT_REQUESTS_PER_DOMAIN": 1}
HOOK_SECRET = "cluster-test-secret"
# every event is one outbox row (baseline = "every"): a lost or doubled event shows in the outbox too; the target
# refuses connections (dispatch attempts fail fast, the rows stay)
WATCHER = """
[alerts]
allow_loopback = true

[[watchers]]
name = "everything"
baseline = "every"
webhook = { url = "http://127.0.0.1:9/hook", secret_env = "YIBAO_HOOK_SECRET" }
"""


class RedisServer:
    def __init__(self, tmp: Path) -> None:
        assert REDIS_SERVER is not None
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen([REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(tmp)], stdout=subprocess.DEVNULL)  # fmt: skip
        self.client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        self.client.close()
        self.proc.terminate()
        self.proc.wait(10)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed: Debian's redis-server package has it (make system-deps installs it)")
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def fresh_redis(redis_server: RedisServer) -> RedisServer:
    redis_server.client.flushall()
    return redis_server


@pytest.fixture(scope="module")
def world() -> Iterator[ReplicaServer]:
    server = ReplicaServer(ReplicaWorld(docs=40, seed=11)).start()
    yield server
    server.stop()


def config_text(world: ReplicaServer, folder: Path, redis_url: str | None, settings: dict[str, Any],
                slow: dict[str, dict[str, Any]] | None = None) -> str:  # fmt: skip
    """The three portals with ``settings`` (``slow``: other settings for some of them), the archive in ``folder``,
    ``[cluster]`` when a Redis URL is given, and the watcher."""
    entries = portal_entries(world.urls, PORTALS)
    for portal_id, entry in entries.items():
        entry["settings"] = (slow or {}).get(portal_id, settings)
    text = render_toml(entries.values()) + f'\n[archive]\npath = "{folder / "archive.db"}"\n'
    if redis_url:
        text += f'\n[cluster]\nredis_url = "{redis_url}"\n'
    return text + WATCHER


def environment() -> dict[str, str]:
    return {**os.environ, "YIBAO_HOOK_SECRET": HOOK_SECRET, "PYTHONUNBUFFERED": "1"}


def yibao(config: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``yibao --config CONFIG ARGS`` to its end, forked warm (tests/e2e/warm.py)."""
    return warm.yibao("--config", str(config), *args, timeout=timeout, env=environment())


def contents(db: Path) -> dict[str, Any]:
    """What two archives of one world must share: documents (content), versions, events and outbox rows."""
    with sqlite3.connect(db) as conn:
        def rows(sql: str) -> list[tuple[Any, ...]]:
            return conn.execute(sql).fetchall()

        return {
            # sorted lists: two documents may share a title and lack a 文号 (see test_crawl_faults)
            "documents": sorted(rows("SELECT d.title, d.kind, d.doc_no, v.comparison_hash, d.status FROM documents d"
                                     " JOIN versions v ON v.id = d.latest_version_id"), key=repr),
            "postings": sorted(rows("SELECT url, portal_id, status FROM postings")),
            "versions": rows("SELECT COUNT(*) FROM versions")[0][0],
            "events": dict(rows("SELECT kind, COUNT(*) FROM events GROUP BY kind")),
            "event_documents": sorted(rows("SELECT kind, COUNT(DISTINCT document_id) FROM events GROUP BY kind")),
            "outbox": dict(rows("SELECT e.kind, COUNT(*) FROM outbox o JOIN events e ON e.id = o.event_id"
                                " GROUP BY e.kind")),
        }  # fmt: skip


def runs(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT portal_id, health, finish_reason FROM runs ORDER BY id").fetchall()


@pytest.fixture(scope="module")
def reference(world: ReplicaServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A single-process crawl of the three portals (``yibao crawl``), as the cluster's yardstick."""
    folder = tmp_path_factory.mktemp("reference")
    config = folder / "yibao.toml"
    config.write_text(config_text(world, folder, None, FAST), encoding="utf-8")
    done = yibao(config, "crawl", "--json", *PORTALS)
    assert done.returncode == 0, done.stderr[-3000:]
    return contents(folder / "archive.db")


class Cluster:
    """The roles over one folder's config: ``start_writer``, ``start_workers``, ``enqueue``, ``wait_idle``."""

    def __init__(self, world: ReplicaServer, redis_server: RedisServer, folder: Path) -> None:
        self.folder, self.redis, self.world = folder, redis_server, world
        self.config = folder / "yibao.toml"
        self.configure()
        self.db = folder / "archive.db"
        self.not_an_archive = folder / "workers" / "archive.db"
        self.procs: list[subprocess.Popen[bytes]] = []
        self.writer: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []

    def configure(self, slow: dict[str, dict[str, Any]] | None = None) -> None:
        """The config every role reads (a crawl reads its portal's settings when it starts)."""
        self.config.write_text(config_text(self.world, self.folder, self.redis.url, FAST, slow), encoding="utf-8")

    def spawn(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with (self.folder / f"{args[0]}-{len(self.procs)}.log").open("wb") as log:  # the child keeps its own copy
            proc = subprocess.Popen([sys.executable, "-m", "cli.main", "--config", str(self.config), "--log-level",
                                     "INFO", *args], stdout=log, stderr=subprocess.STDOUT,
                                    env={**environment(), **(env or {})}, start_new_session=True)  # fmt: skip
        self.procs.append(proc)
        return proc

    def start_writer(self) -> subprocess.Popen[bytes]:
        self.writer = self.spawn("writer")
        return self.writer

    def start_workers(self, n: int, *extra: str) -> list[subprocess.Popen[bytes]]:
        # a worker never opens the archive: were it to, it would make this one, which nothing else names
        self.workers = [self.spawn("worker", "--jobs", "1", *extra, env={"YIBAO_DB": str(self.not_an_archive)})
                        for _ in range(n)]  # fmt: skip
        return self.workers

    def enqueue(self, *portals: str) -> str:
        done = yibao(self.config, "run", "--once", *portals, timeout=60)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def wait_idle(self, timeout: float = 60) -> None:
        from ops.cluster_writer import wait_idle

        if not wait_idle(self.redis.client, timeout=timeout, poll=0.2):
            pytest.fail(f"the cluster did not finish within {timeout} s:\n{self.logs()}")

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(self.folder.glob("*.log")))

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def cluster(world: ReplicaServer, fresh_redis: RedisServer, tmp_path: Path) -> Iterator[Cluster]:
    made = Cluster(world, fresh_redis, tmp_path)
    yield made
    made.stop()
