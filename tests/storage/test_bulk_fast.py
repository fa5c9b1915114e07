"""The fast paths of bulk loading write what the plain ones write: the vectorised bigram tokeniser, records
read by the workers (``bulk_load_sources``), a fresh file written without a journal on disk, and the index
settings of a load put back afterwards."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import sqlite_utils

from benchmarks.build_bench import corpus_slice, corpus_sources
from benchmarks.search_bench import to_record
from core.records import DocumentRecord
from replicas.corpus import CorpusGenerator
from storage import open_db, search_ids, start_run
from storage.bulk import _cut, bulk_load, bulk_load_sources, deferrable_indexes
from storage.search import FTS_MERGE_DEFAULTS, _index_text_runs, fold_search, index_text
from tests.storage.factories import NOW, notice
from tests.storage.test_bulk import fts_instances, rows

SEED = 8


@pytest.fixture(scope="module")
def records() -> list[DocumentRecord]:
    return [to_record(doc) for doc in CorpusGenerator(seed=SEED).generate(60)]


def reference(path: Path, records: list[DocumentRecord]) -> sqlite_utils.Database:
    db = open_db(path)
    bulk_load(db, records, run_id=start_run(db, "bench", now=NOW), now=NOW, batch=25)
    return db


# --- the tokeniser -----------------------------------------------------------------------------------

ALPHABET = (
    "医保局基金门诊号々〇カナ한글é",  # CJK (Han, kana, hangul, iteration marks) and another script's letter
    "ａＢＣ１２３ＤＩＰdipx3_",  # full width (folded to ASCII), words, the underscore (a separator)
    " \t\n-,.:;()（）【】、，。·\u3000\u200b",  # separators, ASCII and not, a zero-width space (dropped)
    "\U00020000\U0001f600\ud800ﬁ①",  # beyond the BMP (the runs path), a lone surrogate, NFKC expansions
)


def random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for n in range(count):
        alphabet = "".join(ALPHABET[: 3 + n % 2])  # half of them within the BMP: the vector path
        texts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 240))))
    return texts


def test_index_text_is_the_run_by_run_tokens(records: list[DocumentRecord]) -> None:
    texts = [t for r in records for t in (r.title, r.doc_no, r.body_text)] + random_texts(3000, seed=15)
    texts += ["-" * 100, "，" * 80 + "医保", "医" * 70, "医保" + "。" * 70, "ab " * 40, "_" * 64 + "x"]
    assert len([t for t in texts if t and len(fold_search(t)) >= 64]) > 1500  # the vector path ran
    for text in texts:
        assert index_text(text) == _index_text_runs(fold_search(text or "")), text


def test_index_text_tokens() -> None:
    long = "关于医保基金（DIP）的通知，" * 8  # long enough for the vector path
    tokens = index_text(long).split(" ")
    # （ folds to "(", a separator: its token is the ASCII char moved to plane 15 (the ascii tokenizer keeps it)
    assert tokens[:9] == ["关于", "于医", "医保", "保基", "基金", "金", "\U000f0028", "dip", "\U000f0029"]
    assert tokens.count("\U000f002c") == 7  # the commas between the repetitions; the final one dropped
    assert tokens[-1] == "知"
    assert index_text("，" * 70 + "医保" + "。" * 70) == "医保 保"  # separators only between tokens


# --- records read by the workers ----------------------------------------------------------------------


def test_corpus_slices_are_the_generated_records(records: list[DocumentRecord]) -> None:
    assert corpus_slice(SEED, 0, 25) + corpus_slice(SEED, 25, 60) == records
    assert [len(source()) for source in corpus_sources(SEED, 10, 60, size=20)] == [20, 20, 10]


@pytest.mark.parametrize("workers", [0, 2])
def test_bulk_load_sources_writes_what_bulk_load_writes(
    tmp_path: Path, records: list[DocumentRecord], workers: int
) -> None:
    expected = reference(tmp_path / "expected.db", records)
    db = open_db(tmp_path / "archive.db")
    sources = corpus_sources(SEED, 0, 60, size=7)  # pieces that do not divide the batches
    assert bulk_load_sources(db, sources, run_id=start_run(db, "bench", now=NOW), now=NOW, batch=25, workers=workers) == 60
    assert rows(db) == rows(expected)
    assert fts_instances(db) == fts_instances(expected)
    db.close()
    expected.close()


# --- a fresh file -------------------------------------------------------------------------------------


def indexes(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    return db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").fetchall()


def test_a_fresh_file_is_loaded_without_a_journal_and_left_in_wal(tmp_path: Path, records: list[DocumentRecord]) -> None:
    expected = reference(tmp_path / "expected.db", records)
    db = open_db(tmp_path / "archive.db")
    run_id = start_run(db, "bench", now=NOW)
    assert bulk_load(db, records, run_id=run_id, now=NOW, batch=25, workers=2, fresh=True) == 60
    assert rows(db) == rows(expected)
    assert fts_instances(db) == fts_instances(expected)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL, as open_db sets it
    assert db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone() == (0, 0, 0)  # a WAL that works
    deferred = set(deferrable_indexes(db))  # dropped meanwhile, built again: the date, 文号, event and facet indexes
    assert {"documents_doc_no", "documents_published", "events_created", "documents_by_kind"} <= deferred
    assert "sqlite_autoindex_postings_1" not in deferred  # a URL's uniqueness is checked while loading
    assert indexes(db) == indexes(expected)
    assert {"documents_by_kind", "documents_by_province", "documents_by_province_kind"} <= {name for name, _ in indexes(db)}
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)  # the indexes hold every row
    with pytest.raises(ValueError, match="only an archive without documents"):
        bulk_load(db, [notice("https://ybj.example.gov.cn/tzgg/9.html", "医保。")], run_id=run_id, fresh=True)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()
    expected.close()


def test_a_failing_batch_of_a_fresh_load_is_rolled_back(tmp_path: Path, records: list[DocumentRecord]) -> None:
    db = open_db(tmp_path / "archive.db")
    with pytest.raises(ValueError, match="25 records stored before it are kept"):
        bulk_load(db, [*records[:30], records[3], *records[30:]], run_id=None, now=NOW, batch=25, fresh=True)
    expected = open_db(tmp_path / "expected.db")
    bulk_load(expected, records[:25], run_id=None, now=NOW)
    assert rows(db) == rows(expected)
    assert fts_instances(db) == fts_instances(expected)
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert indexes(db) == indexes(expected)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()
    expected.close()


# --- the index settings -------------------------------------------------------------------------------


def config(db: sqlite_utils.Database, table: str) -> dict[str, int]:
    stored = dict(db.execute(f"SELECT k, v FROM {table}_config").fetchall())
    return {key: int(stored.get(key, default)) for key, default in FTS_MERGE_DEFAULTS.items()}


def test_the_index_settings_are_put_back_and_the_index_merged(tmp_path: Path, records: list[DocumentRecord]) -> None:
    db = open_db(tmp_path / "archive.db")
    db.execute("INSERT INTO documents_fts (documents_fts, rank) VALUES ('automerge', 8)")  # an own setting
    bulk_load(db, records, run_id=None, now=NOW, batch=10)
    assert config(db, "documents_fts") == {**FTS_MERGE_DEFAULTS, "automerge": 8}
    assert config(db, "documents_heading_fts") == FTS_MERGE_DEFAULTS
    assert db.execute("SELECT COUNT(DISTINCT segid) FROM documents_fts_idx").fetchone() == (1,)
    unmerged = open_db(tmp_path / "unmerged.db")
    bulk_load(unmerged, records, run_id=None, now=NOW, batch=10, optimize=False)
    # six transactions, six segments: nothing merged them meanwhile
    assert unmerged.execute("SELECT COUNT(DISTINCT segid) FROM documents_fts_idx").fetchone() == (6,)
    for term in ("医保", "异地就医", "答复如下", "医保 -门诊"):
        assert search_ids(unmerged, term) == search_ids(db, term)
    db.close()
    unmerged.close()


def test_pieces_are_cut_where_a_transaction_ends() -> None:
    pieces = [list(range(k, k + 3)) for k in range(0, 12, 3)] + [[12, 13]]  # 14 "records" in pieces of 3
    parts = list(_cut(pieces, 5))  # type: ignore[arg-type]
    assert [len(part) for part, _ in parts] == [3, 2, 1, 3, 1, 2, 2]
    assert [ends for _, ends in parts] == [False, True, False, False, True, False, False]
    assert [r for part, _ in parts for r in part] == list(range(14))  # every record once, in order
