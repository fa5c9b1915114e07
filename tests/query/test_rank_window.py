"""The bm25 rank window (``sort="bm25"``): with more matches than ``RANK_WINDOW``, an unfiltered search ranks
the most recently archived ones (highest ids); ``exhaustive=True`` and filtered searches rank all; ``search_count(cap=)``
stops counting at the cap."""

from __future__ import annotations

import importlib

import pytest

from storage.query import DocumentFilter
from storage.search import search, search_count

TERM = "医保"


@pytest.fixture
def window(monkeypatch):
    monkeypatch.setattr(importlib.import_module("storage.search"), "RANK_WINDOW", 25)
    return 25


def ranked(archive, ids):
    """``ids`` ordered as exhaustive bm25 orders them."""
    order = [h.document_id for h in search(archive.db, TERM, limit=10_000, exhaustive=True, sort="bm25")]
    return [i for i in order if i in ids]


def test_many_matches_rank_the_newest_window(archive, window):
    matches = sorted(archive.truth(TERM))
    assert len(matches) > 3 * window  # the window has something to leave out
    newest = set(matches[-window:])
    hits = [h.document_id for h in search(archive.db, TERM, limit=100, sort="bm25")]
    assert hits == ranked(archive, newest)  # exactly the newest window, in bm25 order
    assert [h.document_id for h in search(archive.db, TERM, limit=5, offset=5, sort="bm25")] == hits[5:10]


def test_exhaustive_ranks_every_match(archive, window):
    hits = search(archive.db, TERM, limit=10_000, exhaustive=True, sort="bm25")
    assert {h.document_id for h in hits} == archive.truth(TERM)
    scores = [h.score for h in hits]
    assert scores == sorted(scores)


def test_filtered_searches_rank_every_filtered_hit(archive, window):
    filters = DocumentFilter(kinds=("suggestion_reply", "proposal_reply"))
    matches = {i for i in archive.truth(TERM) if archive.docs[i]["kind"] in filters.kinds}
    assert len(matches) > window  # more than the window, all ranked
    hits = search(archive.db, TERM, filters=filters, limit=10_000, sort="bm25")
    assert [h.document_id for h in hits] == ranked(archive, matches)  # the same order as unfiltered bm25


def test_fewer_matches_than_the_window_rank_them_all(archive, monkeypatch):
    monkeypatch.setattr(importlib.import_module("storage.search"), "RANK_WINDOW", 60)
    term = "基准等级系数"
    matches = archive.truth(term)
    assert 0 < len(matches) < 60
    assert {h.document_id for h in search(archive.db, term, limit=100, sort="bm25")} == matches


def test_count_with_a_cap(archive):
    total = len(archive.truth(TERM))
    assert search_count(archive.db, TERM) == total
    assert search_count(archive.db, TERM, cap=10) == 10
    assert search_count(archive.db, TERM, cap=total + 5) == total
    filters = DocumentFilter(regions=("350000",))
    assert search_count(archive.db, TERM, filters, cap=3) == min(3, search_count(archive.db, TERM, filters))
