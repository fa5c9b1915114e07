"""The relevance order's paths for a wide filter (docs/search.md, "At scale"), forced on the small archive:
tier 2 read from the newest ids with the filter's rows, then below them with the filter's ids read from
its facet index (``SCAN_WINDOW``, ``FILTER_SET``); every page exactly the documented order."""

from __future__ import annotations

from typing import Any

import pytest

from storage import DocumentFilter, search
from tests.query.conftest import Archive
from tests.query.test_search_scale import QUERIES, SEARCH, expected_order, truth

FILTERS: list[dict[str, Any]] = [
    {"regions": ["350000"], "kinds": ["suggestion_reply"]},  # a facet index: its ids are read
    {"kinds": ["policy"], "statuses": ["active"]},
    {"classes": ["A"], "since": "2025-01"},
    {"portals": ["sichuan"]},  # no facet index: the rows are checked below the window too
    {"regions": ["510000"]},
]


@pytest.mark.parametrize("window", [0, 40, 150])
@pytest.mark.parametrize("facets", FILTERS, ids=lambda f: ",".join(f))
@pytest.mark.parametrize("query", QUERIES)
def test_a_wide_filter_below_the_window(
    archive: Archive, monkeypatch: pytest.MonkeyPatch, window: int, facets: dict[str, Any], query: str
) -> None:
    monkeypatch.setattr(SEARCH, "FILTER_FIRST", 0)  # no filter is narrow
    monkeypatch.setattr(SEARCH, "SCAN_WINDOW", window)
    filters = DocumentFilter(**facets)
    expected = expected_order(archive, query, truth(archive, query, filters), "rank")
    assert [h.document_id for h in search(archive.db, query, filters=filters, limit=10_000)] == expected
    paged: list[int] = []
    for offset in range(0, len(expected) + 5, 5):
        paged += [h.document_id for h in search(archive.db, query, filters=filters, limit=5, offset=offset)]
    assert paged == expected


def test_the_filter_ids_come_from_its_facet_index(archive: Archive) -> None:
    filters = DocumentFilter(regions=["350000"], kinds=["suggestion_reply"])
    where, params = filters.where("d")
    passing = {row[0] for row in archive.db.execute(f"SELECT d.id FROM documents d WHERE {where}", params)}
    assert len(passing) > 3
    assert set(SEARCH._indexed_ids(archive.db, filters, 10_000)) == passing
    assert SEARCH._indexed_ids(archive.db, filters, len(passing) - 1) is None  # too many
    assert SEARCH._indexed_ids(archive.db, DocumentFilter(portals=["sichuan"], kinds=["policy"]), 10_000) is None
    assert SEARCH._indexed_ids(archive.db, DocumentFilter(regions=["350000"]), 10_000) is None


@pytest.mark.parametrize("query", ["带量采购", "门诊共", '"互联网+医保"', '"异地就医 直接结算"', '"基本医疗保险"'])
def test_a_phrase_from_its_rarest_token(archive: Archive, monkeypatch: pytest.MonkeyPatch, query: str) -> None:
    from storage import build_query

    monkeypatch.setattr(SEARCH, "RARE_SAMPLE", 3)  # so that the tokens' samples differ on this archive
    for facets in FILTERS[:3]:
        filters = DocumentFilter(**facets)
        ids = SEARCH._indexed_ids(archive.db, filters, 10_000)
        assert ids
        found = SEARCH._rare_first(archive.db, build_query(query), ids)
        assert found is not None
        assert sorted(found) == sorted(truth(archive, query, filters)), (query, facets)
    monkeypatch.setattr(SEARCH, "RARE_PROBES", 0)  # too many documents have the token: not answered
    assert SEARCH._rare_first(archive.db, build_query(query), ids) in (None, [])


@pytest.mark.parametrize("query", ["医", "医保", "3号", "门诊 住院", "门诊 OR 住院", "门诊 -医保"])
def test_only_a_phrase_of_two_tokens_or_more_is_read_from_its_rarest_token(archive: Archive, query: str) -> None:
    from storage import build_query

    ids = SEARCH._indexed_ids(archive.db, DocumentFilter(kinds=["policy"]), 10_000)
    assert ids
    assert SEARCH._rare_first(archive.db, build_query(query), ids) is None


@pytest.mark.parametrize("window", [0, 40, 150])
@pytest.mark.parametrize("facets", FILTERS, ids=lambda f: ",".join(f))
def test_counts_of_a_wide_filter_below_the_window(
    archive: Archive, monkeypatch: pytest.MonkeyPatch, window: int, facets: dict[str, Any]
) -> None:
    from storage import search_count

    monkeypatch.setattr(SEARCH, "FILTER_FIRST_ALL", 0)  # no filter is narrow
    monkeypatch.setattr(SEARCH, "SCAN_WINDOW", window)
    filters = DocumentFilter(**facets)
    for query in QUERIES:
        total = len(truth(archive, query, filters))
        assert search_count(archive.db, query, filters) == total, (query, facets)
        for cap in (1, 3, total, total + 1):
            assert search_count(archive.db, query, filters, cap=cap) == min(cap, total), (query, facets, cap)
