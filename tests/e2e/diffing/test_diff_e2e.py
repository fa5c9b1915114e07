"""End to end: crawl the replica portals into SQLite, edit a document, crawl again, diff the versions."""

from __future__ import annotations

import re
import sqlite3

import pytest

from core.diff_render import render_html, render_text
from core.diffing import diff_versions
from storage import open_db
from storage.versions import get_document, list_versions, versions_of_event
from tests.diffing.helpers import run_diff
from tests.e2e.crawl.test_crawl_e2e import crawl, write_config

PORTAL = "fujian_xiamen"


@pytest.mark.slow
def test_edit_between_crawls_diffs_to_that_paragraph_and_figure(make_replicas, tmp_path, capsys) -> None:
    server = make_replicas(docs=12, seed=11)
    world = server.world
    config = write_config(tmp_path, server)
    crawl(config, PORTAL)
    doc = sorted((d for d in world.docs(PORTAL) if d.seed is None), key=lambda d: d.doc_id)[0]
    before = {i: b.text for i, b in enumerate(doc.blocks)}
    world.edit(doc.doc_id)
    (index,) = [i for i, b in enumerate(world.doc(doc.doc_id).blocks) if b.text != before[i]]
    edited = world.doc(doc.doc_id).blocks[index].text
    added = re.search(r"，预算总额调整为(\d+\.5亿元)。$", edited)
    assert added is not None
    crawl(config, PORTAL)

    with sqlite3.connect(tmp_path / "archive.db") as conn:
        rows = conn.execute("SELECT id, document_id FROM events WHERE kind = 'edited'").fetchall()
    assert len(rows) == 1, rows
    event_id, document_id = rows[0]
    db = open_db(tmp_path / "archive.db")
    old, new = versions_of_event(db, event_id)
    assert old is not None
    assert [v["id"] for v in list_versions(db, document_id)] == [old["id"], new["id"]]
    document = get_document(db, document_id)
    db.close()

    cs = diff_versions(old, new)
    assert cs.fields == []
    (paragraph,) = cs.paragraphs
    assert paragraph.kind == "changed"
    assert paragraph.new.endswith(added.group())
    assert paragraph.new.startswith(paragraph.old.rstrip("。"))
    assert [paragraph.new[s:e] for s, e in paragraph.spans_new] == [added.group()[:-1]]
    assert paragraph.spans_old == ()
    (figure,) = cs.figures
    assert (figure.label, figure.old, figure.new) == ("预算总额", None, added.group(1))
    assert cs.sections == ([paragraph.section] if paragraph.section else [])
    assert cs.summary().startswith("正文修改 1 处")
    assert f"预算总额 — → {added.group(1)}" in cs.summary()

    text = render_text(cs)
    assert f"{{+{added.group()[:-1]}+}}" in text
    html = render_html(cs, title=document["title"], url=new["url"])
    assert "#e6ffec" in html

    code, out, err = run_diff(["diff", str(document_id), "--db", str(tmp_path / "archive.db")], capsys)
    assert code == 0, err
    assert "v1 (" in out
    assert f"{{+{added.group()[:-1]}+}}" in out
