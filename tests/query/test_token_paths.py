"""Newest-first search and counts that narrow a filter's documents by one token the query requires
(``_with_token``), skip the date-ordered walk when the query's newest matches miss the filter
(``_misses_filter``), and read a province's documents of one kind from m010's index: forced on the small
archive, every page and count is exactly the substring truth."""

from __future__ import annotations

from typing import Any

import pytest

from storage import DocumentFilter, build_query, search, search_count
from tests.query.conftest import Archive
from tests.query.test_search_scale import QUERIES, SEARCH, expected_order, truth

NARROW: list[dict[str, Any]] = [
    {"kinds": ["suggestion_reply", "proposal_reply"]},
    {"regions": ["350000"], "kinds": ["suggestion_reply"]},
    {"adoption": ["部分采纳"]},
    {"since": "2025-01", "until": "2025-06"},
]


@pytest.mark.parametrize(
    ("query", "tokens"),
    [
        ("医保", ["医保"]),
        ("异地就医", ["异地", "地就", "就医"]),
        ('"互联网+医保"', ["互联", "联网", "网", "\U000f002b", "医保"]),
        ("3号", ["3"]),  # the last token is a prefix ("3 号" *): not required as it is
        ("医", []),
        ("救助 门诊 -医保", ["救助", "门诊"]),
        ("(集采 OR 带量采购) 住院", ["住院"]),
        ("救助 OR 带量采购", []),
    ],
)
def test_the_tokens_a_query_requires(query: str, tokens: list[str]) -> None:
    assert SEARCH._required_tokens(build_query(query).root) == tokens


@pytest.mark.parametrize("lookup", [0, 10**9])  # each document looked up for the token / the token read whole
@pytest.mark.parametrize("facets", NARROW, ids=lambda f: ",".join(f))
@pytest.mark.parametrize("query", QUERIES)
def test_a_narrow_filter_kept_to_a_required_token(
    archive: Archive, monkeypatch: pytest.MonkeyPatch, lookup: int, facets: dict[str, Any], query: str
) -> None:
    monkeypatch.setattr(SEARCH, "FILTER_FIRST_ALL", 10**9)  # every filter is narrow
    monkeypatch.setattr(SEARCH, "FILTER_FIRST_TOKEN", 0)
    monkeypatch.setattr(SEARCH, "TOKEN_LOOKUP", lookup)
    filters = DocumentFilter(**facets)
    expected = truth(archive, query, filters)
    assert search_count(archive.db, query, filters) == len(expected)
    for sort in ("newest", "oldest"):
        order = expected_order(archive, query, expected, sort)
        # pages of 2: a first chunk of 4 * (offset + 2) + 16 documents, then those with the token
        for offset in sorted({0, 2, 10, *range(max(0, len(order) - 4), len(order) + 2, 2)}):
            hits = search(archive.db, query, filters=filters, limit=2, offset=offset, sort=sort)
            assert [h.document_id for h in hits] == order[offset : offset + 2], (sort, offset)


def test_the_kept_documents_have_the_token(archive: Archive) -> None:
    ids = sorted(archive.docs, reverse=True)
    query = build_query('"基本医疗保险"')
    kept = SEARCH._with_token(archive.db, query, ids)
    assert kept is not None
    assert truth(archive, '"基本医疗保险"') <= set(kept) < set(ids)
    assert kept == [i for i in ids if i in set(kept)]  # in the order given
    assert SEARCH._with_token(archive.db, build_query("医保"), ids) is None  # the query is the token
    assert SEARCH._with_token(archive.db, build_query("救助 OR 带量采购"), ids) is None


def test_a_walk_is_skipped_when_the_newest_matches_miss_the_filter(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    policies = DocumentFilter(regions=["350000"], kinds=["policy"])
    replies = DocumentFilter(regions=["350000"], kinds=["suggestion_reply"])

    def misses(query: str, filters: DocumentFilter) -> bool:
        sample = SEARCH._stream(archive.db, "documents_fts", build_query(query).match, None, 10**6)
        return bool(SEARCH._misses_filter(archive.db, sample, filters, filters.where("d")))

    assert truth(archive, '"感谢您对医疗保障工作"', replies)
    assert not truth(archive, '"感谢您对医疗保障工作"', policies)
    assert misses('"感谢您对医疗保障工作"', policies)
    assert not misses('"感谢您对医疗保障工作"', replies)
    assert not misses('"感谢您对医疗保障工作"', DocumentFilter(portals=["sichuan"]))  # no facet index
    monkeypatch.setattr(SEARCH, "FILTER_FIRST_ALL", 0)  # no filter is narrow
    monkeypatch.setattr(SEARCH, "DENSE_SAMPLE", 5)  # the sample does not hold every match
    monkeypatch.setattr(SEARCH, "WALK_BUDGET", 10**9)
    for filters in (policies, replies):
        expected = truth(archive, '"感谢您对医疗保障工作"', filters)
        hits = search(archive.db, '"感谢您对医疗保障工作"', filters=filters, limit=10**4, sort="newest")
        assert [h.document_id for h in hits] == expected_order(archive, "", expected, "newest")


def test_a_province_and_a_kind_are_walked_in_their_index(archive: Archive) -> None:
    filters = DocumentFilter(regions=["350000"], kinds=["suggestion_reply"])
    assert SEARCH._province_of(filters) == "福建省"
    assert SEARCH._walk_index(filters) == "documents_by_province_kind"
    for other in (
        DocumentFilter(regions=["350200"], kinds=["suggestion_reply"]),  # a city
        DocumentFilter(regions=["350000", "440000"], kinds=["suggestion_reply"]),
        DocumentFilter(regions=["350000"], kinds=["suggestion_reply", "policy"]),
        DocumentFilter(regions=["990000"], kinds=["policy"]),  # no such province
    ):
        assert SEARCH._province_of(other) is None
    where, params = SEARCH._walk_where(filters)
    plan = " ".join(
        row[3]
        for row in archive.db.execute(
            f"EXPLAIN QUERY PLAN SELECT d.id FROM documents d WHERE {where} ORDER BY d.published_on DESC", params
        )
    )
    assert "documents_by_province_kind (province=? AND kind=?)" in plan
    assert "TEMP B-TREE" not in plan


def test_the_membership_blob_holds_exactly_the_ids(archive: Archive) -> None:
    every = sorted(archive.docs)
    ids = [*every[::3], every[-1]]
    rows = archive.db.execute(
        f"SELECT rowid FROM documents_fts WHERE documents_fts MATCH ? AND {SEARCH._MEMBER}",
        ['"医保"', SEARCH._id_bits(ids)],
    )
    assert {row[0] for row in rows} == {i for i in ids if i in truth(archive, "医保")}
    assert SEARCH._id_bits([]) == b"\x00"


@pytest.mark.parametrize("facets", NARROW[:2], ids=lambda f: ",".join(f))
@pytest.mark.parametrize("query", ["医保", "带量采购", '"基本医疗保险"', "救助 门诊"])
def test_a_walk_short_of_the_page_walks_on(
    archive: Archive, monkeypatch: pytest.MonkeyPatch, facets: dict[str, Any], query: str
) -> None:
    """A date-ordered walk that finds some of the page walks on, as far as the share it met predicts."""
    monkeypatch.setattr(SEARCH, "FILTER_FIRST_ALL", 0)  # no filter is narrow
    monkeypatch.setattr(SEARCH, "DENSE_SAMPLE", 20)  # the share from the newest 20 matches
    monkeypatch.setattr(SEARCH, "MISS_CHECK", 10**9)  # every walk taken
    monkeypatch.setattr(SEARCH, "WALK_SPARE", 0)  # the first walk short of the page: it walks on
    filters = DocumentFilter(**facets)
    for sort in ("newest", "oldest"):
        order = expected_order(archive, query, truth(archive, query, filters), sort)
        for limit in (1, 4, 9):
            hits = search(archive.db, query, filters=filters, limit=limit, sort=sort)
            assert [h.document_id for h in hits] == order[:limit], (sort, limit)
