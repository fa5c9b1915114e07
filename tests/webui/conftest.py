"""One real archive for the web UI tests: two replica portals crawled, then a document edited, one
retitled with markup, one withdrawn, crawled again (twice, so the withdrawal is confirmed)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from replicas.server import ReplicaServer
from replicas.world import ReplicaWorld
from tests.e2e.crawl.test_crawl_e2e import crawl, write_config

HOSTILE = "<script>alert('x')</script>关于门诊共济测试的通知"
PORTALS = ("fujian_xiamen", "sichuan")


@dataclass(frozen=True)
class Archive:
    path: Path
    server: ReplicaServer
    edited_id: int
    hostile_id: int
    withdrawn_id: int

    def query(self, sql: str, *params: object) -> list[tuple]:
        with sqlite3.connect(self.path) as conn:
            return conn.execute(sql, params).fetchall()


def _document_id(path: Path, server: ReplicaServer, portal: str, doc_id: str) -> int:
    url = server.urls[portal] + server.world.urls(doc_id)["main"]
    with sqlite3.connect(path) as conn:
        (document_id,) = conn.execute("SELECT document_id FROM postings WHERE url = ?", [url]).fetchone()
    return document_id


@pytest.fixture(scope="package")
def built_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The query tests' archive (``tests.query.conftest``: generated documents and hand-made ones), built
    in process by ``storage.record``: for the unit tests of the web UI (no server, no crawl)."""
    from tests.query.conftest import _build

    path = tmp_path_factory.mktemp("built") / "archive.db"
    _build(path)
    return path


@pytest.fixture(scope="package")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    tmp = tmp_path_factory.mktemp("webui")
    server = ReplicaServer(ReplicaWorld(docs=24, seed=3)).start()
    try:
        world = server.world
        config = write_config(tmp, server)
        crawl(config, *PORTALS)
        docs = world.docs("fujian_xiamen")
        edited = next(d for d in docs if d.kind.endswith("_reply"))
        hostile, withdrawn = [d for d in docs if d is not edited][:2]
        path = tmp / "archive.db"
        ids = {d.doc_id: _document_id(path, server, "fujian_xiamen", d.doc_id) for d in (edited, hostile, withdrawn)}
        world.edit(edited.doc_id)
        world.set_metadata(hostile.doc_id, title=HOSTILE)
        world.withdraw(withdrawn.doc_id)
        crawl(config, *PORTALS)
        crawl(config, *PORTALS)
        yield Archive(path, server, ids[edited.doc_id], ids[hostile.doc_id], ids[withdrawn.doc_id])
    finally:
        server.stop()
