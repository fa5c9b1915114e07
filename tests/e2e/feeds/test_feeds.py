"""Atom feeds of the archive: parse cleanly with feedparser, one entry per event, crawled text escaped."""

from __future__ import annotations

import feedparser

from alerts.feeds import build_feed
from storage import open_db
from tests.e2e.crawl.test_crawl_e2e import crawl, write_config

PORTAL = "fujian_xiamen"


def test_feed_of_the_archive(make_replicas, tmp_path):
    server = make_replicas(docs=20, seed=3)
    world = server.world
    config = write_config(tmp_path, server)
    crawl(config, PORTAL)
    doc = world.docs(PORTAL)[1]
    world.edit(doc.doc_id)
    hostile = world.docs(PORTAL)[2]
    world.set_metadata(hostile.doc_id, title="<script>alert('x')</script>关于测试的通知")
    crawl(config, PORTAL)
    db = open_db(tmp_path / "archive.db")
    xml = build_feed(db)
    parsed = feedparser.parse(xml)
    assert parsed.bozo == 0, parsed.bozo_exception
    (events,) = db.execute("SELECT COUNT(*) FROM events").fetchone()
    assert len(parsed.entries) == events
    kinds = [e.tags[0].term for e in parsed.entries]
    assert kinds.count("edited") + kinds.count("metadata_changed") == 2
    assert b"<script>" not in xml
    assert b"&lt;script&gt;" in xml
    titles = [e.title for e in parsed.entries]
    assert any("<script>alert('x')</script>关于测试的通知" in t for t in titles)  # text, not markup
    path = world.urls(doc.doc_id)["main"]
    edited = next(e for e in parsed.entries if e.tags[0].term == "edited" and e.link.endswith(path))
    assert "正文修改" in edited.summary
    assert "预算总额" in edited.content[0].value  # the changed figure's context is in the entry
    assert all(e.link.startswith(server.urls[PORTAL]) for e in parsed.entries)
    db.close()
