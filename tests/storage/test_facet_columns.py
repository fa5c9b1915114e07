"""``storage.facet_columns``: the facet values kept in memory give the counts grouped from the documents
for any set of ids and selection, and follow the archive's writes (edits, withdrawals, moves, inserts,
deletes, a file replaced at the same path) by reading only what changed."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from storage import open_db, record, write_transaction
from storage.browse import FACET_COLUMNS, summed_facets
from storage.facet_columns import FacetColumns
from tests.query.conftest import HAND

NOW = "2025-08-18T02:00:00Z"
COLUMNS = list(FACET_COLUMNS)


def grouped(path: Path, ids: list[int], selected: list[tuple[str, str]]) -> object:
    db = open_db(path, migrate=False)
    where = " AND ".join(["id IN (SELECT value FROM json_each(?))", *(f"{c} = ?" for c, _ in selected)])
    rows = db.execute(
        f"SELECT {', '.join(COLUMNS)}, COUNT(*) FROM documents WHERE {where} GROUP BY {', '.join(COLUMNS)}",
        [str(ids), *(v for _, v in selected)],
    ).fetchall()
    db.close()
    return summed_facets(COLUMNS, rows)


def assert_same(columns: FacetColumns, path: Path) -> None:
    db = open_db(path, migrate=False)
    every = [i for (i,) in db.execute("SELECT id FROM documents ORDER BY id")]
    db.close()
    for ids in (every, every[::2], [], [*every[1::3], 10**6]):  # an id beyond the archive counts nothing
        for selected in ([], [("kind", "suggestion_reply")], [("province", "福建省"), ("status", "active")]):
            assert columns.counts(np.array(ids, dtype=np.int64), COLUMNS, selected) == grouped(
                path, [i for i in ids if i in every], selected
            ), (len(ids), selected)


def test_the_kept_values_follow_every_write(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    db = open_db(path)
    with write_transaction(db):
        for key in ("rare_title", "phrase", "reply"):
            record(db, HAND[key], run_id=None, now=NOW)
    columns = FacetColumns(str(path))
    assert_same(columns, path)
    with write_transaction(db):  # new documents above the highest id read
        for key in ("edited", "withdrawn", "undated"):
            record(db, HAND[key], run_id=None, now=NOW)
    assert_same(columns, path)
    with write_transaction(db):  # edits of faceted fields: validity, kind, publication year
        record(db, replace(HAND["edited"], validity="失效", body_text="改了。"), run_id=None, now=NOW)
        record(db, replace(HAND["phrase"], published_on="2024-01-02", kind="notice"), run_id=None, now=NOW)
        db.execute("UPDATE documents SET status = 'withdrawn' WHERE id = (SELECT MIN(id) FROM documents)")
        db.execute("UPDATE documents SET region_code = '510100', reply_class = NULL WHERE kind = 'suggestion_reply'")
    assert_same(columns, path)
    insert = (
        "INSERT INTO documents (id, identity_key, title, kind, region_code, published_on, first_seen_at,"
        " last_changed_at) VALUES (999, 'k', 't', ?, ?, '2020-05-05', ?, ?)"
    )
    with write_transaction(db):  # a document row without versions above every id
        db.execute(insert, ["report", "110000", NOW, NOW])
    assert_same(columns, path)
    with write_transaction(db):  # deleted: the highest id goes
        db.execute("DELETE FROM documents WHERE id = 999")
    assert_same(columns, path)
    with write_transaction(db):  # and comes back as another document
        db.execute(insert, ["notice", "440100", NOW, NOW])
    assert_same(columns, path)
    top = 999
    db.close()
    fresh = FacetColumns(str(path))  # read whole, the same as the one that read the changes
    every = np.arange(top + 1, dtype=np.int64)
    assert fresh.counts(every, COLUMNS) == columns.counts(every, COLUMNS)


def test_a_file_replaced_at_the_same_path_is_read_again(tmp_path: Path) -> None:
    one, two = tmp_path / "one.db", tmp_path / "two.db"
    for path, keys in ((one, ("rare_title", "phrase")), (two, ("reply", "edited", "withdrawn"))):
        db = open_db(path)
        with write_transaction(db):
            for key in keys:
                record(db, HAND[key], run_id=None, now=NOW)
        db.close()
    served = tmp_path / "served.db"
    shutil.copy(one, served)
    columns = FacetColumns(str(served))
    assert_same(columns, served)
    shutil.copy(two, tmp_path / "next.db")
    (tmp_path / "next.db").replace(served)  # as a restore from a backup would
    assert_same(columns, served)


def test_an_unknown_column_is_refused(tmp_path: Path) -> None:
    open_db(tmp_path / "a.db").close()
    with pytest.raises(ValueError, match="title"):
        FacetColumns(str(tmp_path / "a.db")).counts(np.array([1]), ["title"])
