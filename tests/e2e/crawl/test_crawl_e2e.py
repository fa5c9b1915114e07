"""End to end: `yibao crawl` subprocesses (forked warm, tests/e2e/warm.py) over the running replica portals into a
real SQLite archive."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from crawler.registry import load_registry
from replicas.server import ReplicaServer
from tests.e2e.warm import yibao


def write_config(tmp_path: Path, server: ReplicaServer) -> Path:
    """Every replica portal (``replicas/portals.toml`` at the server's ports; nothing of the shipped registry)
    and ``[archive] path`` in ``tmp_path``."""
    path = tmp_path / "yibao.toml"
    path.write_text(server.registry_toml() + f'\n[archive]\npath = "{tmp_path / "archive.db"}"\n', encoding="utf-8")
    return path


def crawl(config: Path, *portals: str) -> dict:
    """``yibao --config CONFIG crawl --fast --json PORTALS`` in a process of its own (forked warm: tests/e2e/warm.py)."""
    done = yibao("--config", str(config), "crawl", "--fast", "--json", *portals, timeout=240)
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return json.loads(done.stdout)


def query(tmp_path: Path, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture
def world_and_config(make_replicas, tmp_path):
    server = make_replicas(docs=40, seed=11)
    return server, write_config(tmp_path, server)


def test_first_crawl_archives_every_document_once(world_and_config, tmp_path):
    server, config = world_and_config
    world = server.world
    summary = crawl(config)
    assert all(s["health"] == "ok" for s in summary.values()), summary
    identities = {d.identity for d in world.docs()}
    (documents,) = query(tmp_path, "SELECT COUNT(*) FROM documents")[0]
    assert documents == len(identities)
    # Zhongshan replies are listed by gkmlpt and by the NFCMS column: two postings, one document
    (two_urls,) = query(tmp_path, "SELECT COUNT(*) FROM (SELECT document_id FROM postings GROUP BY document_id"
                                  " HAVING COUNT(*) > 1)")[0]
    zs_replies = [d for d in world.docs("guangdong_zhongshan") if d.column == "qtwj"]
    assert two_urls == len(zs_replies)
    (events,) = query(tmp_path, "SELECT COUNT(*) FROM events WHERE kind = 'new'")[0]
    assert events == documents


def test_rerun_unchanged_costs_lists_and_304s_only(world_and_config, tmp_path):
    server, config = world_and_config
    world = server.world
    crawl(config)
    world.reset_stats()
    summary = crawl(config)
    assert query(tmp_path, "SELECT COUNT(*) FROM events WHERE kind != 'new'")[0][0] == 0
    assert query(tmp_path, "SELECT COUNT(*) FROM versions")[0][0] == query(tmp_path, "SELECT COUNT(*) FROM documents")[0][0]
    stats = world.stats()
    for portal_id, s in stats.items():
        statuses = s["statuses"]
        assert set(statuses) <= {"200", "304", "403", "404"}, (portal_id, statuses)
        postings = query(tmp_path, "SELECT COUNT(*) FROM postings WHERE portal_id = ?", portal_id)[0][0]
        assert statuses.get("304", 0) == postings  # Sichuan has no ETag: Last-Modified gives its 304s
        columns = len(load_registry(config).get(portal_id).columns)
        assert s["total"] == 1 + columns + postings  # robots.txt + one list request per column + 304s
        assert summary[portal_id]["new"] == 0


def test_edit_noise_withdraw_and_repost(world_and_config, tmp_path):
    server, config = world_and_config
    world = server.world
    crawl(config)
    xm = sorted(world.docs("fujian_xiamen"), key=lambda d: d.doc_id)
    edited, withdrawn, reposted = xm[1], xm[2], xm[3]
    world.edit(edited.doc_id)
    world.set_metadata(xm[4].doc_id, validity="失效")
    world.withdraw(withdrawn.doc_id)
    world.repost(reposted.doc_id, portal_id="fujian_ningde")
    crawl(config)
    kinds = dict(query(tmp_path, "SELECT kind, COUNT(*) FROM events WHERE kind != 'new' GROUP BY kind"))
    assert kinds == {"edited": 1, "validity_changed": 1}, kinds
    (new_after,) = query(tmp_path, "SELECT COUNT(*) FROM events WHERE kind = 'new'")[0]
    assert new_after == len({d.identity for d in world.docs(include_withdrawn=True)})  # the repost is no new doc
    crawl(config)
    kinds = dict(query(tmp_path, "SELECT kind, COUNT(*) FROM events WHERE kind != 'new' GROUP BY kind"))
    assert kinds == {"edited": 1, "validity_changed": 1, "withdrawn": 1}, kinds
    crawl(config)  # nothing further: noise (visit counters, dates, related boxes) never makes a version
    kinds_after = dict(query(tmp_path, "SELECT kind, COUNT(*) FROM events WHERE kind != 'new' GROUP BY kind"))
    assert kinds_after == kinds


def test_unhealthy_run_never_withdraws(world_and_config, tmp_path):
    server, config = world_and_config
    world = server.world
    crawl(config, "nhsa")
    doc = world.docs("nhsa")[0]
    world.withdraw(doc.doc_id)
    world.set_faults("nhsa", broken_layout=True)
    for _ in range(3):
        summary = crawl(config, "nhsa")
        assert summary["nhsa"]["health"] == "failed"
    assert query(tmp_path, "SELECT COUNT(*) FROM events WHERE kind = 'withdrawn'")[0][0] == 0


def test_edit_of_a_document_seen_at_two_urls_is_one_event(world_and_config, tmp_path):
    """Zhongshan shows a reply on gkmlpt (with 索引号) and on the NFCMS column (without): one edit,
    both pages change, one version and one event, with no spurious metadata change."""
    server, config = world_and_config
    world = server.world
    crawl(config, "guangdong_zhongshan")
    doc = next(d for d in world.docs("guangdong_zhongshan") if d.column == "qtwj" and d.seed is None)
    world.edit(doc.doc_id)
    crawl(config, "guangdong_zhongshan")
    crawl(config, "guangdong_zhongshan")
    events = query(tmp_path, "SELECT kind, changed_fields FROM events WHERE kind != 'new'")
    assert len(events) == 1, events
    assert events[0][0] == "edited"
    assert json.loads(events[0][1]) == ["body_text"], events
