"""Every match read by rowid ranges side by side (``storage.rowid_ranges``): the exact count and the ids
of every match are the same as on one connection, and as the substring truth, however the ids are cut."""

from __future__ import annotations

import pytest

from storage import rowid_ranges
from storage.search import build_query, match_ids, search_count
from tests.query.conftest import Archive

QUERIES = ["医保", "门诊", "异地就医 结算", '"按病种分值付费"', "感谢 -门诊", "医保 OR 集采", "火星文"]


@pytest.mark.parametrize("ranges", [0, 1, 2, 3, 7])
def test_ranges_read_what_one_connection_reads(
    archive: Archive, ranges: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0: the archive's size is under ``MIN_DOCUMENTS`` (one connection); 1: one core; 2+: side by side."""
    if ranges:
        monkeypatch.setattr(rowid_ranges, "MIN_DOCUMENTS", 0)
        monkeypatch.setattr(rowid_ranges, "shards", lambda: ranges)
    for query in QUERIES:
        ids = match_ids(archive.db, query)
        match = build_query(query).match
        one_statement = archive.db.execute("SELECT rowid FROM documents_fts WHERE documents_fts MATCH ?", [match])
        assert ids.tolist() == sorted(i for (i,) in one_statement), query
        assert search_count(archive.db, query) == len(ids), query
    for term in ("医保", "门诊"):
        assert set(match_ids(archive.db, term).tolist()) == archive.truth(term)


def test_an_in_memory_archive_reads_on_its_own_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    from storage import open_db

    monkeypatch.setattr(rowid_ranges, "MIN_DOCUMENTS", 0)
    db = open_db(":memory:")
    assert rowid_ranges.archive_file(db) is None
    assert rowid_ranges.each_range(db, "SELECT COUNT(*) FROM documents_fts WHERE documents_fts MATCH ?", ["x"], 5) is None
    assert match_ids(db, "医保").tolist() == []
