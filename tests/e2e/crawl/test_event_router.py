"""``YIBAO_EVENT_ROUTER``: where a crawl's events go is a setting (the crawler imports no alerts code). The
default routes them to the config's watchers (outbox rows in the event's transaction), empty disables
routing, any factory can take its place, and a bad watcher config fails the crawl at its start."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from replicas.server import ReplicaServer
from tests.crawler.helpers import REPO, TIMEOUT, clean_env
from tests.e2e.warm import yibao

PORTAL = "fujian_xiamen"
WATCHER = """
[alerts]
allow_loopback = true

[[watchers]]
name = "everything"
baseline = "every"
webhook = { url = "http://127.0.0.1:9/hook", secret_env = "YIBAO_TEST_HOOK_SECRET" }
"""
BAD_WATCHER = """
[alerts]
allow_loopback = true

[[watchers]]
name = "broken"
mode = "digest"
webhook = { url = "http://127.0.0.1:9/hook", secret_env = "YIBAO_TEST_HOOK_SECRET" }
"""


def write_config(tmp_path: Path, server: ReplicaServer, extra: str) -> Path:
    path = tmp_path / "yibao.toml"
    path.write_text(server.registry_toml(PORTAL) + f"\n[archive]\npath = {json.dumps(str(tmp_path / 'archive.db'))}\n"
                    f"{extra}", encoding="utf-8")
    return path


def scrapy_crawl(config: Path, *settings: str) -> subprocess.CompletedProcess[str]:
    args = ["crawl", PORTAL, "-s", f"YIBAO_CONFIG={config}", "-s", "DOWNLOAD_DELAY=0", "-s",
            "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"]  # fmt: skip
    for setting in settings:
        args += ["-s", setting]
    return yibao(*args, module="scrapy", cwd=REPO, env=clean_env(YIBAO_TEST_HOOK_SECRET="s3cret"),
                 timeout=TIMEOUT)  # forked warm (tests/e2e/warm.py)


def count(archive: Path, table: str) -> int:
    with sqlite3.connect(archive) as conn:
        return conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]


@pytest.fixture
def server(make_replicas) -> ReplicaServer:
    return make_replicas(docs=20, seed=5)


def test_default_router_writes_outbox_rows_and_empty_disables_it(server, tmp_path):
    docs = len(server.world.docs(PORTAL))
    routed, unrouted = tmp_path / "routed", tmp_path / "unrouted"
    routed.mkdir()
    unrouted.mkdir()

    done = scrapy_crawl(write_config(routed, server, WATCHER))
    assert done.returncode == 0, done.stderr[-3000:]
    assert count(routed / "archive.db", "documents") == docs
    assert count(routed / "archive.db", "outbox") == docs  # one "new" event per document, one target
    # (baseline = "every": the first crawl's documents one by one; by default they are one summary, see
    # tests/alerts/test_baseline.py)

    done = scrapy_crawl(write_config(unrouted, server, WATCHER), "YIBAO_EVENT_ROUTER=")
    assert done.returncode == 0, done.stderr[-3000:]
    assert count(unrouted / "archive.db", "events") == docs  # recorded ...
    assert count(unrouted / "archive.db", "outbox") == 0  # ... and routed nowhere


def test_any_factory_can_be_the_router(server, tmp_path):
    probe = tmp_path / "events.txt"
    done = scrapy_crawl(write_config(tmp_path, server, ""), "YIBAO_EVENT_ROUTER=tests.crawl.event_probe.probe_router",
                        f"PROBE_FILE={probe}")
    assert done.returncode == 0, done.stderr[-3000:]
    lines = probe.read_text(encoding="utf-8").splitlines()
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        events = [f"{kind} {doc}" for kind, doc in conn.execute("SELECT kind, document_id FROM events ORDER BY id")]
    assert lines == events
    assert len(lines) == len(server.world.docs(PORTAL))


def test_bad_watcher_config_fails_the_crawl_at_its_start(server, tmp_path):
    done = scrapy_crawl(write_config(tmp_path, server, BAD_WATCHER))
    assert done.returncode != 0
    assert "digest_cron" in done.stderr
    assert server.world.stats()[PORTAL]["total"] == 0  # not one request
    archive = tmp_path / "archive.db"
    assert not archive.exists() or count(archive, "documents") == 0
