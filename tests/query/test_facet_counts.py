"""The documents table's facet counts kept by triggers (migration m008, and m010's groups of every
combination of facet values) equal the counts grouped from the documents themselves, after inserts,
edits, withdrawals, a region move and deletions; recounted set-based (``rebuild_facet_counts``, what a
bulk load does) they are the same tables."""

from __future__ import annotations

from dataclasses import replace
from itertools import islice
from pathlib import Path

import pytest
import sqlite_utils

from replicas.corpus import CorpusGenerator
from storage import finish_run, note_gone, open_db, record, start_run, write_transaction
from storage.browse import (
    FACET_COLUMNS,
    facet_counts,
    facet_counts_scan,
    facet_counts_selected,
    rebuild_facet_counts,
    suspend_facet_counts,
)
from storage.bulk import bulk_load
from tests.query.conftest import HAND, Archive, to_record

NOW = "2025-08-18T02:00:00Z"


def selections(db: sqlite_utils.Database) -> list[tuple[str, str] | None]:
    """No selection, every value of every facet the archive has, and a value no document has."""
    chosen: list[tuple[str, str] | None] = [None, ("province", "西藏自治区"), ("kind", "no such kind")]
    for column in FACET_COLUMNS:
        rows = db.execute(f"SELECT DISTINCT {column} FROM documents WHERE {column} IS NOT NULL")
        chosen += [(column, value) for (value,) in rows]
    return chosen


def assert_kept(db: sqlite_utils.Database) -> None:
    for selected in selections(db):
        assert facet_counts(db, FACET_COLUMNS, selected) == facet_counts_scan(db, FACET_COLUMNS, selected), (
            selected
        )
    assert kept_groups(db) == grouped(db)


GROUPED = ", ".join(FACET_COLUMNS)


def kept_groups(db: sqlite_utils.Database) -> list[tuple[object, ...]]:
    """m010's groups as kept (emptied groups are deleted: none has a count of 0)."""
    return db.execute(f"SELECT {GROUPED}, count FROM facet_groups ORDER BY key").fetchall()


def grouped(db: sqlite_utils.Database) -> list[tuple[object, ...]]:
    return db.execute(
        f"SELECT {GROUPED}, COUNT(*) FROM documents GROUP BY {GROUPED} ORDER BY json_array({GROUPED})"
    ).fetchall()


def kept_rows(db: sqlite_utils.Database) -> list[tuple[str, str, str, str, int]]:
    return db.execute(
        "SELECT facet, value, counted, counted_value, count FROM facet_counts WHERE count <> 0 ORDER BY 1, 2, 3, 4"
    ).fetchall()


def test_kept_counts_equal_the_scan(archive: Archive) -> None:
    assert_kept(archive.db)
    everything = facet_counts(archive.db, FACET_COLUMNS)
    assert everything is not None
    assert sum(count for _, count in everything["status"]) == len(archive.docs)
    fujian = facet_counts(archive.db, ["kind", "province"], ("province", "福建省"))
    assert fujian is not None
    fujian_documents = sum(1 for d in archive.docs.values() if (d["region_code"] or "").startswith("35"))
    assert fujian["province"] == [("福建省", fujian_documents)]
    assert facet_counts(archive.db, ["kind"], ("kind", "no such kind")) == {"kind": []}


def test_an_unknown_facet_is_refused(archive: Archive) -> None:
    with pytest.raises(ValueError, match="title"):
        facet_counts(archive.db, ["title"])
    with pytest.raises(ValueError, match="doc_no"):
        facet_counts(archive.db, ["kind"], ("doc_no", "x"))


def test_kept_counts_follow_every_write(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    with write_transaction(db):
        for key in ("rare_title", "phrase", "reply", "edited", "withdrawn", "undated"):
            record(db, HAND[key], run_id=None, now=NOW)
    assert_kept(db)
    with write_transaction(db):  # edits of the faceted fields: validity, kind, publication year
        record(
            db,
            replace(HAND["edited"], validity="失效", body_text="改了。"),
            run_id=None,
            now="2025-09-01T02:00:00Z",
        )
        record(db, replace(HAND["phrase"], published_on="2024-01-02", kind="notice"), run_id=None,
               now="2025-09-02T02:00:00Z")  # fmt: skip
    assert_kept(db)
    run = start_run(db, "fujian_ningde", now="2025-09-03T02:00:00Z")
    finish_run(db, run, finish_reason="finished", health="ok", stats={}, now="2025-09-03T02:00:00Z")
    assert note_gone(db, HAND["withdrawn"].url, run_id=run, now="2025-09-03T02:00:00Z", n_required=1)
    assert ("withdrawn", 1) in (facet_counts(db, ["status"]) or {})["status"]
    assert_kept(db)
    (doc_id,) = db.execute("SELECT document_id FROM postings WHERE url = ?", [HAND["reply"].url]).fetchone()
    with write_transaction(db):  # a region move: another province and bureau, the reply class cleared
        db.execute(
            "UPDATE documents SET region_code = '510100', bureau = '成都市医疗保障局', reply_class = NULL WHERE id = ?",
            [doc_id],
        )
    assert_kept(db)
    with write_transaction(db):  # a document row without versions, inserted and deleted
        db.execute(
            "INSERT INTO documents (id, identity_key, title, kind, region_code, published_on, first_seen_at,"
            " last_changed_at) VALUES (999, 'k', 't', 'report', '110000', '2020-05-05', ?, ?)",
            [NOW, NOW],
        )
    assert ("北京市", 1) in (facet_counts(db, ["province"]) or {})["province"]
    assert_kept(db)
    with write_transaction(db):
        db.execute("DELETE FROM documents WHERE id = 999")
    assert_kept(db)
    assert ("北京市", 1) not in (facet_counts(db, ["province"]) or {})["province"]
    db.close()


def test_suspended_counts_are_not_read_and_a_rebuild_equals_the_kept_table(tmp_path: Path) -> None:
    records = [to_record(doc) for doc in CorpusGenerator(seed=8).generate(120)]
    kept = open_db(tmp_path / "kept.db")
    rebuilt = open_db(tmp_path / "rebuilt.db")
    with write_transaction(rebuilt):
        suspend_facet_counts(rebuilt)
    for db in (kept, rebuilt):
        with write_transaction(db):
            for rec in records:
                record(db, rec, run_id=None, now=NOW)
    assert kept_rows(rebuilt) == []  # the triggers were off
    assert kept_groups(rebuilt) == []
    assert facet_counts_selected(rebuilt, FACET_COLUMNS, [("kind", "policy"), ("status", "active")]) is None
    assert facet_counts(rebuilt, FACET_COLUMNS) is None  # the web UI groups the documents meanwhile
    rebuild_facet_counts(rebuilt)
    assert kept_rows(rebuilt) == kept_rows(kept)
    assert kept_groups(rebuilt) == kept_groups(kept)
    assert len(kept_rows(kept)) > 100
    assert_kept(rebuilt)
    with write_transaction(rebuilt):  # the triggers are on again
        record(rebuilt, HAND["reply"], run_id=None, now=NOW)
    assert_kept(rebuilt)
    kept.close()
    rebuilt.close()


def test_bulk_load_recounts_once_at_its_end(tmp_path: Path) -> None:
    db = open_db(tmp_path / "bulk.db")
    generated = (to_record(doc) for doc in CorpusGenerator(seed=8).generate(90))
    run_id = start_run(db, "bench", now=NOW)
    assert bulk_load(db, islice(generated, 60), run_id=run_id, now=NOW, batch=25) == 60
    assert_kept(db)
    with pytest.raises(ValueError, match="already stored"):  # a failed load is recounted too
        bulk_load(
            db, [*islice(generated, 20), HAND["reply"], HAND["reply"]], run_id=run_id, now=NOW, batch=10
        )
    (count,) = db.execute("SELECT COUNT(*) FROM documents").fetchone()
    assert count == 80
    assert facet_counts(db, ["status"]) == {"status": [("active", 80)]}
    assert_kept(db)
    db.close()


def test_several_selected_values_summed_from_the_groups_equal_the_rows(archive: Archive) -> None:
    db = archive.db
    kinds = [k for (k,) in db.execute("SELECT DISTINCT kind FROM documents")]
    chosen = [
        *([("kind", k), ("province", "福建省")] for k in kinds),
        [("status", "active"), ("published_year", "2025"), ("reply_class", "A")],
        [("validity", "有效"), ("province", "广东省")],
        [("bureau", "测试市医疗保障局"), ("kind", "notice")],
        [("province", "福建省"), ("published_year", "2025")],  # generated columns only
        [("province", "福建省"), ("province", "广东省")],  # two values of one facet: both must hold
        [("province", "西藏自治区"), ("kind", "policy")],  # no document
    ]
    for selected in chosen:
        where = " AND ".join(f"{column} = ?" for column, _ in selected)
        params = [value for _, value in selected]
        reference = {
            column: sorted(
                db.execute(
                    f"SELECT {column}, COUNT(*) FROM documents WHERE {where} GROUP BY 1 HAVING {column} IS NOT NULL",
                    params,
                ).fetchall(),
                key=lambda item: (-item[1], item[0]),
            )
            for column in FACET_COLUMNS
        }
        assert facet_counts_selected(db, FACET_COLUMNS, selected) == reference, selected
    (fujian_policies,) = db.execute(
        "SELECT COUNT(*) FROM documents WHERE province = '福建省' AND kind = 'policy'"
    ).fetchone()
    assert fujian_policies > 0
    assert facet_counts_selected(db, ["kind"], [("province", "福建省"), ("kind", "policy")]) == {
        "kind": [("policy", fujian_policies)]
    }
    with pytest.raises(ValueError, match="title"):
        facet_counts_selected(db, ["kind"], [("title", "x"), ("kind", "policy")])


def test_groups_keep_null_and_empty_values_apart(tmp_path: Path) -> None:
    db = open_db(tmp_path / "g.db")
    with write_transaction(db):
        record(db, replace(HAND["reply"], reply_class=None), run_id=None, now=NOW)
        record(db, replace(HAND["phrase"], validity=""), run_id=None, now=NOW)
    assert kept_groups(db) == grouped(db)
    assert len(kept_groups(db)) == 2
    db.close()


def test_each_facet_has_its_date_index(tmp_path: Path) -> None:
    from storage.migrations import FACET_DATE_INDEXES

    db = open_db(tmp_path / "i.db")
    names = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert set(FACET_DATE_INDEXES) <= names
    assert not names & {"documents_kind", "documents_province", "documents_status"}  # m004's, replaced
    for column in FACET_COLUMNS:
        columns = [row[2] for row in db.execute(f"PRAGMA index_info(documents_by_{column})")]
        assert columns[:3] == [column, "published_on", "id"]
        assert set(columns[3:]) == {*FACET_COLUMNS, "region_code"} - {column}
    db.close()


def test_facets_of_any_rows_are_grouped_within_a_time_limit(archive: Archive) -> None:
    from storage.browse import facet_counts_of_rows

    sql = "SELECT * FROM documents WHERE published_on >= :since"
    got = facet_counts_of_rows(archive.db, FACET_COLUMNS, sql, {"since": "2025-03-01"}, time_limit_ms=60_000)
    assert got is not None
    for column in FACET_COLUMNS:
        expected = archive.db.execute(
            f"SELECT {column}, COUNT(*) FROM documents WHERE published_on >= '2025-03-01' GROUP BY 1"
            f" HAVING {column} IS NOT NULL"
        ).fetchall()
        assert got[column] == sorted(expected, key=lambda item: (-item[1], item[0]))
    assert facet_counts_of_rows(archive.db, FACET_COLUMNS, "SELECT * FROM documents", {}, time_limit_ms=0) is None
    assert archive.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0] > 0  # the handler is removed
    with pytest.raises(ValueError, match="title"):
        facet_counts_of_rows(archive.db, ["title"], "SELECT * FROM documents", {}, time_limit_ms=1000)


def test_a_province_and_a_kind_are_read_from_their_index(archive: Archive) -> None:
    """m010's index serves the documents table's count and rows of ``?province=…&kind=…`` (Datasette's
    SQL), reading the table's rows for no column."""
    columns = [row[2] for row in archive.db.execute("PRAGMA index_info(documents_by_province_kind)")]
    assert columns[:4] == ["province", "kind", "published_on", "id"]
    assert set(columns[4:]) == {*FACET_COLUMNS, "region_code"} - {"province", "kind"}
    for sql in (
        'select count(*) from documents where "kind" = :p0 and "province" = :p1',
        'select id, title from documents where "kind" = :p0 and "province" = :p1 order by published_on desc limit 51',
    ):
        plan = " ".join(row[3] for row in archive.db.execute(f"EXPLAIN QUERY PLAN {sql}", ["policy", "福建省"]))
        assert "documents_by_province_kind (province=? AND kind=?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan
