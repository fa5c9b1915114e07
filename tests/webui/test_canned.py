"""Canned queries that read the tables the archive keeps give what the documents themselves say."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from storage import open_db
from webui.app import make_datasette

# replies_by_deputy as it was: the JSON of every document (the reference)
DEPUTY_SCAN = (
    "select d.id from documents d, json_each(d.deputies) p where p.value like '%' || ? || '%' group by d.id"
)


def test_replies_by_deputy_finds_every_document_naming_the_deputy(built_archive: Path) -> None:
    db = open_db(built_archive)
    names = sorted({name for (text,) in db.execute("SELECT deputies FROM documents") for name in json.loads(text)})
    dated = dict(db.execute("SELECT id, published_on FROM documents").fetchall())
    ds = make_datasette(built_archive)
    assert len(names) > 3
    for name in [*names[:3], names[0][:1], "张三", "no such name"]:
        response = asyncio.run(ds.client.get(f"/archive/replies_by_deputy.json?deputy={name}&_shape=array"))
        assert response.status_code == 200
        rows = response.json()
        expected = {i for (i,) in db.execute(DEPUTY_SCAN, [name])}
        assert {r["id"] for r in rows} == expected, name
        assert len(rows) == len(expected)
        order = [(dated[r["id"]] or "", r["id"]) for r in rows]
        assert order == sorted(order, reverse=True)  # newest first
    db.close()
