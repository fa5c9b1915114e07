"""The token presence summary (storage/token_presence.py, migration m011): a filtered query proved empty
only when it is, checked against substring truth after crawls, edits that move documents between
partitions, withdrawals, a bulk load, ``rebuild_index`` and an archive migrated from before the summary."""

from __future__ import annotations

import importlib
import random
import unicodedata
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils

from core.records import KINDS, DocumentRecord
from storage import (
    DocumentFilter,
    build_query,
    note_gone,
    open_db,
    rebuild_index,
    search,
    search_count,
    start_run,
)
from storage import token_presence as tp
from storage.archive import Fetched, record, record_batch
from storage.bulk import bulk_load, prepare, write_prepared
from storage.search import And, Node, Or, Term, index_text
from tests.storage.factories import ALL_TERMS, LATER, NOW, corpus
from tests.storage.test_search import term_pattern

SEARCH = importlib.import_module("storage.search")
REGIONS = ["350200", "350203", "350000", "510100", "510000", "440300", "100000", None]
FILTER_REGIONS = [(), ("510000",), ("350000",), ("510100",), ("440000",), ("350200", "440300"), ("620000",)]
FILTER_KINDS = [(), ("policy",), ("suggestion_reply",), ("notice", "report"), ("interpretation",)]
# words in few documents (each put in a partition of its own below), and one in none
RARE = ["蜻蜓", "萤火", "琥珀", "珊瑚", "麒麟", "凤凰"]
ABSENT = "饕餮"


def spread(records: list[DocumentRecord], seed: int) -> list[DocumentRecord]:
    """The corpus in random partitions, a rare word in some documents."""
    rng = random.Random(seed)
    out = []
    for i, rec in enumerate(records):
        body = rec.body_text
        if i % 7 == 0:
            body += f"。{RARE[(i // 7) % len(RARE)]}计划"
        out.append(replace(rec, region_code=rng.choice(REGIONS), kind=rng.choice(KINDS), body_text=body))
    return out


def fold(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def holds(node: Node | None, text: str) -> bool:
    """The query's truth on a folded text: substring containment (an ASCII word whole), AND/OR/NOT."""
    if node is None:
        return False
    if isinstance(node, Term):
        return term_pattern(node.text).search(text) is not None
    if isinstance(node, Or):
        return any(holds(item, text) for item in node.items)
    assert isinstance(node, And)
    return all(holds(i, text) for i in node.positive) and not any(holds(i, text) for i in node.negative)


def truth(db: sqlite_utils.Database, query: str, filters: DocumentFilter) -> set[int]:
    root = build_query(query).root
    where, params = filters.where("d")
    rows = db.execute(
        "SELECT d.id, d.title, d.doc_no, v.body_text FROM documents d JOIN versions v ON v.id = d.latest_version_id"
        f" WHERE {where}",
        params,
    )
    return {i for i, *fields in rows if holds(root, "\x00".join(map(fold, fields)))}


def queries(rng: random.Random, db: sqlite_utils.Database) -> list[str]:
    """Terms, rare words, a word in no document, phrases cut from stored bodies, AND / OR / NOT."""
    bodies = [row[0] for row in db.execute("SELECT body_text FROM versions ORDER BY id")]
    out = [*RARE, ABSENT, f"{ABSENT}计划", f"{RARE[0]} 医保", f"{RARE[1]} OR {RARE[2]}", f"{ABSENT} OR {RARE[3]}"]
    out += [f"{RARE[4]} -{RARE[5]}", f"医保 -{RARE[0]}", f"({RARE[0]} OR {ABSENT}) {RARE[1]}"]
    for _ in range(6):
        out.append(rng.choice(ALL_TERMS))
        body = rng.choice(bodies)
        start = rng.randrange(max(1, len(body) - 8))
        out.append('"' + body[start : start + rng.randint(2, 8)].replace('"', "") + '"')
    return [q for q in out if build_query(q).match is not None]


def check(db: sqlite_utils.Database, seed: int, *, expect_proved: bool = True) -> None:
    """Every query with every filter: search (each sort) and search_count give the substring truth; the
    summary proves some filtered queries empty, never one that matches."""
    rng = random.Random(seed)
    proved = 0
    for query in queries(rng, db):
        parsed = build_query(query)
        for regions in FILTER_REGIONS:
            for kinds in FILTER_KINDS:
                if not regions and not kinds:
                    continue
                filters = DocumentFilter(regions=regions, kinds=kinds)
                expected = truth(db, query, filters)
                absent = SEARCH._proved_absent(db, parsed, filters)
                assert not (absent and expected), (query, filters)
                proved += absent
                assert search_count(db, query, filters) == len(expected), (query, filters)
                for sort in ("rank", "newest"):
                    hits = search(db, query, filters=filters, limit=500, sort=sort)
                    assert {h.document_id for h in hits} == expected, (query, filters, sort)
    assert (proved > 20) == expect_proved


def summary(db: sqlite_utils.Database) -> dict[tuple[str, str, int], bytes]:
    """The stored bitmaps, decoded: (province, kind, chunk) -> the chunk's bits."""
    rows = db.execute("SELECT province, kind, chunk, bits FROM token_presence")
    return {(p, k, c): tp._decode(bits).tobytes() for p, k, c, bits in rows}


@pytest.fixture
def crawled(tmp_path: Path) -> sqlite_utils.Database:
    """An archive written as a crawl writes (``record_batch``, 9 pages per transaction)."""
    db = open_db(tmp_path / "crawled.db")
    run_id = start_run(db, "fujian_ningde", now=NOW)
    records = spread(corpus(80, seed=3), seed=3)
    for i in range(0, len(records), 9):
        results = record_batch(db, [Fetched(r.url, r) for r in records[i : i + 9]], run_id=run_id, now=NOW)
        assert all(getattr(e, "kind", None) == "new" for e in results)
    yield db
    db.close()


# --- the hash -----------------------------------------------------------------------------------------------

# Bits of a few tokens as every process computes them (the hash is not Python's salted ``hash``).
GOLDEN = {"谢您": 1925242, "医保": 129374, "dip": 1171069, "局": 1177506, "\U000f002c": 152095, "2025": 1288864}


def test_token_bits_are_stable() -> None:
    assert tp.token_bits(" ".join(GOLDEN)).tolist() == list(GOLDEN.values())
    assert tp.token_bits("").tolist() == []
    assert tp.token_bits("  谢您  医保 ").tolist() == [GOLDEN["谢您"], GOLDEN["医保"]]


def reference_bit(token: str) -> int:
    """The documented hash, in plain Python: the polynomial of the code points modulo 2 ** 64, xor-shifted,
    times an odd constant, its top BITS bits."""
    mod = 1 << 64
    h = sum(ord(c) * pow(tp._P, i, mod) for i, c in enumerate(token)) % mod
    h = ((h ^ (h >> 29)) * 0xBF58476D1CE4E5B9) % mod
    return h >> (64 - tp.BITS)


def test_token_bits_follow_the_definition_on_indexed_text() -> None:
    for rec in corpus(30, seed=11):
        text = " ".join((index_text(rec.title), index_text(rec.doc_no), index_text(rec.body_text)))
        tokens = [t for t in text.split(" ") if t]
        assert tp.token_bits(text).tolist() == [reference_bit(t) for t in tokens]
    long_word = "x" * 5000  # beyond the power tables' first size
    assert tp.token_bits(f"a {long_word} b").tolist() == [reference_bit(t) for t in ("a", long_word, "b")]


def test_chunks_round_trip_sparse_and_dense() -> None:
    rng = np.random.default_rng(5)
    size = tp.CHUNK_BYTES * 8
    for count in (1, 50, tp.SPARSE_MAX, tp.SPARSE_MAX + 1, 10_000):
        offsets = np.sort(rng.choice(size, size=count, replace=False)).astype(np.uint32)
        bits = np.zeros(size, dtype=np.uint8)
        bits[offsets] = 1
        blob = tp._encode(offsets)
        assert (len(blob) == tp.CHUNK_BYTES) == (count > tp.SPARSE_MAX)
        assert len(blob) <= tp.CHUNK_BYTES
        assert np.array_equal(tp._decode(blob), np.packbits(bits, bitorder="little"))
        for offset in rng.integers(0, size, 200).tolist() + offsets[:50].tolist():
            assert tp._has_bit(blob, offset) == bool(bits[offset])


def test_merges_keep_the_union_and_write_only_what_gains_a_bit() -> None:
    db = sqlite_utils.Database(memory=True)
    db.execute(tp.CREATE_SQL)
    rng = np.random.default_rng(8)
    union: set[int] = set()
    for step in range(40):
        # three chunks made dense, the others sparse; repeats; batches that add nothing new
        hot = rng.integers(0, 3 << tp.CHUNK_BITS, int(rng.choice([0, 50, 20_000])))
        spread = rng.integers(0, 1 << tp.BITS, int(rng.choice([1, 30, 500, 2_000])))
        bits = np.concatenate((hot, spread, spread[:10])).astype(np.uint32)
        if step % 5 == 4:
            bits = np.array(sorted(union)[:: max(1, len(union) // 3_000)], dtype=np.uint32)
        before = db.conn.total_changes
        tp._merge(db, "51", "policy", bits)
        gained = set(bits.tolist()) - union
        union |= gained
        stored = {}
        for chunk, blob in db.execute("SELECT chunk, bits FROM token_presence"):
            decoded = np.unpackbits(tp._decode(blob), bitorder="little")
            stored.update(dict.fromkeys((np.flatnonzero(decoded) + (chunk << tp.CHUNK_BITS)).tolist()))
        assert set(stored) == union
        assert db.conn.total_changes - before == len({b >> tp.CHUNK_BITS for b in gained})
    kinds = {len(blob) == tp.CHUNK_BYTES for (blob,) in db.execute("SELECT bits FROM token_presence")}
    assert kinds == {True, False}  # both forms met


# --- proofs against substring truth -------------------------------------------------------------------------


def test_filtered_queries_against_substring_truth(crawled: sqlite_utils.Database) -> None:
    check(crawled, seed=1)


def test_and_or_not_and_regions(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")
    base = corpus(2, seed=9)
    record(db, replace(base[0], region_code="510100", kind="policy", body_text="甲乙丙丁。医保"), run_id=None, now=NOW)
    record(db, replace(base[1], region_code="350200", kind="suggestion_reply", body_text="戊己庚。医保"), run_id=None, now=NOW)
    sichuan = DocumentFilter(regions=("510000",), kinds=("policy",))
    proved = {
        q: SEARCH._proved_absent(db, build_query(q), sichuan)
        for q in ("戊己", "甲乙 OR 戊己", "甲乙 戊己", "甲乙 -戊己", "戊己 -甲乙", "医保", '"乙丙丁"', "丙丁 OR 己庚")
    }
    assert proved == {
        "戊己": True, "甲乙 OR 戊己": False, "甲乙 戊己": True, "甲乙 -戊己": False, "戊己 -甲乙": True,
        "医保": False, '"乙丙丁"': False, "丙丁 OR 己庚": False,
    }  # fmt: skip
    assert search(db, "甲乙 OR 戊己", filters=sichuan)[0].region_code == "510100"
    # a city code reaches its province (51's other city has 甲乙: only a "maybe"); no region reaches every
    # province, the one without a region too
    assert SEARCH._proved_absent(db, build_query("甲乙"), DocumentFilter(regions=("350700",)))
    assert not SEARCH._proved_absent(db, build_query("甲乙"), DocumentFilter(regions=("510700",)))
    assert search_count(db, "甲乙", DocumentFilter(regions=("510700",))) == 0
    assert not SEARCH._proved_absent(db, build_query("甲乙"), DocumentFilter(kinds=("policy",)))
    assert SEARCH._proved_absent(db, build_query("甲乙"), DocumentFilter(kinds=("notice",)))  # no notice at all
    assert not SEARCH._proved_absent(db, build_query("甲乙"), None)  # no region, no kind: never used
    assert not SEARCH._proved_absent(db, build_query("甲乙"), DocumentFilter(statuses=("active",)))
    assert search_count(db, "戊己", sichuan) == 0
    assert search(db, "戊己", filters=sichuan, sort="bm25") == []
    db.close()


def test_edits_that_move_documents_and_withdrawals(crawled: sqlite_utils.Database) -> None:
    rng = random.Random(4)
    rows = crawled.execute("SELECT d.id, p.url FROM documents d JOIN postings p ON p.document_id = d.id").fetchall()
    records = {rec.url: rec for rec in spread(corpus(80, seed=3), seed=3)}
    moved = rng.sample(rows, 40)
    batch = []
    for n, (_, url) in enumerate(moved):
        # a region or kind alone is no change to the archive (not in the comparison hash): with the text
        rec = replace(records[url], region_code=rng.choice(REGIONS), kind=rng.choice(KINDS))
        extra = f"新增{RARE[n % len(RARE)]}试点" if n % 2 else "修订"  # half: a rare word into the partition
        batch.append(Fetched(url, replace(rec, body_text=f"{rec.body_text}。{extra}{n}")))
    results = record_batch(crawled, batch, run_id=None, now=LATER)
    assert [getattr(e, "kind", None) for e in results] == ["edited"] * len(batch)
    run = start_run(crawled, "fujian_ningde", now=LATER)
    for _, url in rng.sample(rows, 15):
        note_gone(crawled, url, run_id=run, now=LATER, n_required=1)
    # one document moved from Fujian's policies to Sichuan's with a word no other document has
    url = moved[0][1]
    record(crawled, replace(records[url], region_code="350200", kind="policy", body_text="迁移测试一：鹦鹉螺"), run_id=None, now=LATER)
    sichuan = DocumentFilter(regions=("510000",), kinds=("policy",))
    assert search_count(crawled, "鹦鹉螺", sichuan) == 0
    assert SEARCH._proved_absent(crawled, build_query("鹦鹉螺"), sichuan)
    record(crawled, replace(records[url], region_code="510100", kind="policy", body_text="迁移测试二：鹦鹉螺"), run_id=None, now=LATER)
    assert not SEARCH._proved_absent(crawled, build_query("鹦鹉螺"), sichuan)
    assert [h.document_id for h in search(crawled, "鹦鹉螺", filters=sichuan, sort="newest")] == [moved[0][0]]
    # moved away again: the stale bit only makes a "maybe", the search itself finds nothing
    record(crawled, replace(records[url], region_code="350200", kind="policy", body_text="迁移测试三：鹦鹉螺"), run_id=None, now=LATER)
    assert not SEARCH._proved_absent(crawled, build_query("鹦鹉螺"), sichuan)
    assert search_count(crawled, "鹦鹉螺", sichuan) == 0
    check(crawled, seed=2)
    # rebuilt: the stale bits are gone, the proof is back
    rebuild_index(crawled)
    assert SEARCH._proved_absent(crawled, build_query("鹦鹉螺"), sichuan)
    check(crawled, seed=3)


def test_bulk_load_record_and_rebuild_make_the_same_summary(tmp_path: Path) -> None:
    records = spread(corpus(60, seed=8), seed=8)
    by_record = open_db(tmp_path / "record.db")
    for rec in records:
        record(by_record, rec, run_id=None, now=NOW)
    by_bulk = open_db(tmp_path / "bulk.db")
    assert bulk_load(by_bulk, records, run_id=None, now=NOW, batch=25) == len(records)
    expected = summary(by_record)
    assert expected
    assert summary(by_bulk) == expected
    partitions = {(p, k) for p, k, _ in expected}
    assert partitions == {tp.partition_of(r.region_code, r.kind) for r in records}
    # bits not precomputed by the workers: the writer computes the same
    by_writer = open_db(tmp_path / "writer.db")
    write_prepared(by_writer, [prepare(r)._replace(presence=None) for r in records], run_id=None, now=NOW)
    assert summary(by_writer) == expected
    rebuild_index(by_bulk)
    assert summary(by_bulk) == expected
    check(by_bulk, seed=5)
    for db in (by_record, by_bulk, by_writer):
        db.close()


def forget_summary(path: Path) -> None:
    """Make the archive as it was before migration m011 (same schema, no summary)."""
    db = open_db(path)
    db.execute("DROP TABLE token_presence")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm011_token_presence'")
    db.execute("DELETE FROM meta WHERE key IN (?, ?)", [tp.INCOMPLETE, tp.FORMAT_KEY])
    db.conn.commit()
    db.close()


def test_migration_fills_a_small_archive(crawled: sqlite_utils.Database, tmp_path: Path) -> None:
    expected = summary(crawled)
    path = tmp_path / "crawled.db"
    crawled.close()
    forget_summary(path)
    db = open_db(path)
    assert tp.complete(db)
    assert summary(db) == expected
    check(db, seed=6)
    db.close()


def test_migration_marks_a_large_archive_incomplete_until_filled(
    crawled: sqlite_utils.Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = summary(crawled)
    path = tmp_path / "crawled.db"
    crawled.close()
    forget_summary(path)
    monkeypatch.setattr(tp, "MIGRATION_FILL_MAX", 50)
    db = open_db(path)
    assert not tp.complete(db)
    assert summary(db) == {}
    check(db, seed=7, expect_proved=False)  # not used while incomplete: every answer from the index
    # a document crawled meanwhile: its bits are set as it is indexed (the fill reads it too)
    extra = replace(corpus(1, seed=99)[0], url="https://ybj.example.gov.cn/extra.html", index_no="EXTRA-1", doc_no=None,
                    region_code="510000", kind="policy", body_text="新的文件：鹦鹉螺")  # fmt: skip
    record(db, extra, run_id=None, now=LATER)
    assert not tp.complete(db)
    assert tp.fill(db, batch=30) == 81
    assert tp.complete(db)
    assert tp.fill(db) == 0
    with_extra = summary(db)
    assert all(_covers(with_extra[key], bits) for key, bits in expected.items())  # the extra's bits added
    sichuan = DocumentFilter(regions=("510000",), kinds=("policy",))
    assert [h.title for h in search(db, "鹦鹉螺", filters=sichuan)] == [extra.title]
    check(db, seed=8)
    db.close()


def _covers(bigger: bytes, smaller: bytes) -> bool:
    a, b = np.frombuffer(bigger, np.uint8), np.frombuffer(smaller, np.uint8)
    return bool(np.array_equal(a | b, a))


def test_rows_of_another_layout_are_never_used_and_fill_replaces_them(crawled: sqlite_utils.Database) -> None:
    expected = summary(crawled)
    crawled.execute("UPDATE meta SET value = 'poly64-bits20-chunk17-u4' WHERE key = ?", [tp.FORMAT_KEY])
    crawled.execute("UPDATE token_presence SET bits = zeroblob(length(bits))")  # read as this layout: no bits
    crawled.conn.commit()
    assert not tp.complete(crawled)
    check(crawled, seed=9, expect_proved=False)
    assert tp.fill(crawled, batch=1_000) == 80
    assert tp.complete(crawled)
    assert summary(crawled) == expected
