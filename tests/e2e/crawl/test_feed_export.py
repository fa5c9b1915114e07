"""``scrapy crawl ID -O docs.jsonl`` over the replicas: one JSON line per document (the record with its fetch
metadata), nothing for the fetches that bring no document (304, gone), exit 0; the archive is written too."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from replicas.server import ReplicaServer
from tests.crawler.helpers import REPO, TIMEOUT, clean_env
from tests.e2e.warm import yibao

PORTAL = "fujian_xiamen"


def write_config(tmp_path: Path, server: ReplicaServer) -> Path:
    path = tmp_path / "yibao.toml"
    path.write_text(server.registry_toml() + f"\n[archive]\npath = {json.dumps(str(tmp_path / 'archive.db'))}\n",
                    encoding="utf-8")
    return path


def scrapy_export(config: Path, out: Path) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    args = ["crawl", PORTAL, "-O", str(out), "-s", f"YIBAO_CONFIG={config}", "-s", "DOWNLOAD_DELAY=0", "-s",
            "AUTOTHROTTLE_ENABLED=False", "-s", "LOG_LEVEL=INFO"]  # fmt: skip
    done = yibao(*args, module="scrapy", cwd=REPO, env=clean_env(), timeout=TIMEOUT)  # forked warm (tests/e2e/warm.py)
    lines = out.read_text(encoding="utf-8").splitlines() if out.exists() else []
    return done, [json.loads(line) for line in lines]


def test_scrapy_crawl_exports_one_line_per_document(make_replicas, tmp_path):
    server = make_replicas(docs=40, seed=11)
    world = server.world
    config = write_config(tmp_path, server)
    docs = world.docs(PORTAL)
    assert len(docs) >= 3
    base = server.urls[PORTAL]
    primary = {base + next(iter(world.urls(d.doc_id).values())): d for d in docs}

    done, items = scrapy_export(config, tmp_path / "first.jsonl")

    assert done.returncode == 0, done.stderr[-3000:]
    assert "No adapter found" not in done.stderr
    assert " ERROR: " not in done.stderr, done.stderr[-3000:]
    assert len(items) == len(docs)
    assert {item["url"] for item in items} == set(primary)
    for item in items:
        doc = primary[item["url"]]
        assert item["portal"] == PORTAL
        assert item["status"] == 200
        assert item["column"]
        assert item["fetched_at"]
        assert item["etag"] or item["last_modified"]
        record = item["record"]
        assert record["url"] == item["url"]
        assert record["portal_id"] == PORTAL
        assert record["kind"] == doc.kind
        assert record["bureau"] == doc.bureau
        assert record["body_text"]
        if doc.meeting is not None:  # nested dataclasses export as objects
            assert {k: record["meeting"][k] for k in doc.meeting.truth()} == doc.meeting.truth()
    assert any(primary[item["url"]].meeting is not None for item in items)
    with sqlite3.connect(tmp_path / "archive.db") as conn:  # the crawl archived what it exported
        (postings,) = conn.execute("SELECT COUNT(*) FROM postings WHERE portal_id = ?", [PORTAL]).fetchone()
    assert postings == len(docs)

    # the next run: one edit, one withdrawal, the rest unchanged (304). Only the edited document is exported.
    edited, withdrawn = docs[0], docs[1]
    world.edit(edited.doc_id)
    world.withdraw(withdrawn.doc_id)
    done, items = scrapy_export(config, tmp_path / "second.jsonl")

    assert done.returncode == 0, done.stderr[-3000:]
    assert [primary[item["url"]].doc_id for item in items] == [edited.doc_id]
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        (stats,) = conn.execute("SELECT stats_json FROM runs WHERE portal_id = ? ORDER BY id DESC LIMIT 1",
                                [PORTAL]).fetchone()
    stats = json.loads(stats)
    assert stats["yibao/not_modified"] == len(docs) - 2  # recorded, not exported
    assert stats["yibao/gone"] == 1
    assert stats["item_scraped_count"] == 1
