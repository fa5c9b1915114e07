"""storage.bulk.bulk_load writes what storage.record writes for new documents, and refuses duplicates."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlite_utils

from benchmarks.search_bench import to_record
from core import identity
from core.records import DocumentRecord
from replicas.corpus import CorpusGenerator
from storage import open_db, record, search, search_ids, start_run
from storage.bulk import bulk_load
from tests.storage.factories import NOW, notice

TABLES = {  # every row of a new document, in id order
    "documents": "SELECT * FROM documents ORDER BY id",
    "versions": "SELECT * FROM versions ORDER BY id",
    "identity_keys": "SELECT * FROM identity_keys ORDER BY key",
    "postings": "SELECT * FROM postings ORDER BY url",
    "events": "SELECT * FROM events ORDER BY id",
    "fingerprints": "SELECT * FROM fingerprints ORDER BY version_id",
    "fingerprint_bands": "SELECT * FROM fingerprint_bands ORDER BY band_hash, version_id",
}
TERMS = [
    "医保",
    "门诊",
    "答复",
    "基金",
    "医保基金",
    "异地就医",
    "定点医药",
    "答复如下",
    "集中采购",
    "医保 -门诊",
]


@pytest.fixture(scope="module")
def records() -> list[DocumentRecord]:
    corpus = [to_record(doc) for doc in CorpusGenerator(seed=8).generate(150)]
    extra = [  # key-less: one long enough for a MinHash fingerprint, one too short for any
        notice("https://ybj.example.gov.cn/tzgg/1.html", "关于开展医保政策宣传月活动的通知。" * 12),
        notice("https://ybj.example.gov.cn/tzgg/2.html", "医保码使用说明。", title="医保码使用说明"),
    ]
    return corpus[:70] + extra + corpus[70:]


def rows(db: sqlite_utils.Database) -> dict[str, list[tuple[object, ...]]]:
    return {table: db.execute(sql).fetchall() for table, sql in TABLES.items()}


def fts_instances(db: sqlite_utils.Database) -> list[tuple[object, ...]]:
    """Every token of the contentless index with its document, column and offset."""
    db.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_v USING fts5vocab(main, documents_fts, instance)")
    return db.execute("SELECT term, doc, col, offset FROM temp.fts_v ORDER BY doc, col, offset").fetchall()


@pytest.fixture(scope="module")
def archives(
    tmp_path_factory: pytest.TempPathFactory, records: list[DocumentRecord]
) -> tuple[sqlite_utils.Database, sqlite_utils.Database]:
    tmp = tmp_path_factory.mktemp("bulk")
    by_record = open_db(tmp / "record.db")
    run_id = start_run(by_record, "bench", now=NOW)
    for rec in records:
        record(by_record, rec, run_id=run_id, now=NOW)
    by_bulk = open_db(tmp / "bulk.db")
    run_id = start_run(by_bulk, "bench", now=NOW)
    assert bulk_load(by_bulk, iter(records), run_id=run_id, now=NOW, batch=40, workers=2) == len(records)
    yield by_record, by_bulk
    by_record.close()
    by_bulk.close()


def test_bulk_load_writes_the_rows_record_writes(
    archives: tuple[sqlite_utils.Database, sqlite_utils.Database], records: list[DocumentRecord]
) -> None:
    by_record, by_bulk = archives
    expected = rows(by_record)
    assert len(expected["documents"]) == len(records)
    assert len(expected["fingerprints"]) == 1 + sum(
        not identity.identity_keys(r) for r in records[:70] + records[72:]
    )
    assert rows(by_bulk) == expected
    assert fts_instances(by_bulk) == fts_instances(by_record)


@pytest.mark.parametrize("term", TERMS)
def test_bulk_load_searches_like_record(
    archives: tuple[sqlite_utils.Database, sqlite_utils.Database], term: str
) -> None:
    by_record, by_bulk = archives
    assert search_ids(by_bulk, term) == search_ids(by_record, term)
    assert search_ids(by_bulk, term)
    assert search(by_bulk, term, limit=20) == search(by_record, term, limit=20)


def test_bulk_load_without_workers_and_into_a_filled_archive(
    tmp_path: Path, records: list[DocumentRecord]
) -> None:
    db = open_db(tmp_path / "archive.db")
    run_id = start_run(db, "bench", now=NOW)
    for rec in records[:30]:
        record(db, rec, run_id=run_id, now=NOW)
    assert bulk_load(db, records[30:], run_id=run_id, now=NOW, batch=50) == len(records) - 30
    reference = open_db(tmp_path / "reference.db")
    run_id = start_run(reference, "bench", now=NOW)
    bulk_load(reference, records, run_id=run_id, now=NOW)
    assert rows(db) == rows(reference)
    db.close()
    reference.close()


def bulk_archive(path: Path, records: list[DocumentRecord]) -> sqlite_utils.Database:
    db = open_db(path)
    bulk_load(db, records, run_id=start_run(db, "bench", now=NOW), now=NOW)
    return db


@pytest.mark.parametrize("workers", [0, 2])
def test_a_stored_key_fails_and_rolls_back_its_batch(
    tmp_path: Path, records: list[DocumentRecord], workers: int
) -> None:
    db = bulk_archive(tmp_path / "archive.db", records[:20])
    stored = next(r for r in records[:20] if identity.identity_keys(r)[0].startswith("docno:"))
    repost = dataclasses.replace(stored, url="https://elsewhere.example/copy.html")  # same 文号
    batches = [*records[20:35], repost, *records[35:40]]  # batch=10: the 2nd batch fails
    with pytest.raises(ValueError, match="identity key 'docno:") as failure:
        bulk_load(db, batches, run_id=1, now=NOW, batch=10, workers=workers)
    assert "10 records stored before it are kept" in str(failure.value)
    expected = bulk_archive(tmp_path / "expected.db", records[:30])
    assert rows(db) == rows(expected)  # the first batch, nothing of the second
    assert fts_instances(db) == fts_instances(expected)
    assert bulk_load(db, records[30:40], run_id=1, now=NOW) == 10
    db.close()
    expected.close()


def test_a_repeated_url_or_key_in_the_input_fails(tmp_path: Path, records: list[DocumentRecord]) -> None:
    db = open_db(tmp_path / "archive.db")
    with pytest.raises(ValueError, match="URL 'http://replica/"):
        bulk_load(db, [records[0], records[1], records[0]], run_id=None, now=NOW)
    twin = dataclasses.replace(records[1], url="https://elsewhere.example/twin.html")
    with pytest.raises(ValueError, match="identity key"):
        bulk_load(db, [records[0], records[1], twin], run_id=None, now=NOW)
    assert all(not table_rows for table_rows in rows(db).values())
    assert fts_instances(db) == []
    db.close()
