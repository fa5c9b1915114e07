"""storage.search with DocumentFilter, search_count and the filter itself, against brute-force truth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from storage import DocumentFilter, FilterError, QueryError, count_documents, search, search_count, search_ids
from storage.query import normalise_date, region_pattern
from tests.query.conftest import RARE, Archive

ALL = 10_000  # a limit above the archive's size


def ids(hits: list[Any]) -> list[int]:
    return [hit.document_id for hit in hits]


# --- terms against substring truth -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("救助", ["救助"]),  # 2 chars, in about a quarter of the corpus
        ("门诊", ["门诊"]),
        ("带量采购", ["带量采购"]),  # 4 chars
        ("异地就医", ["异地就医"]),
        ('"互联网+医保"', ["互联网+医保"]),  # a phrase with punctuation inside
        ('"异地就医 直接结算"', ["异地就医 直接结算"]),  # a phrase with a space inside
        ("救助 门诊 带量采购", ["救助", "门诊", "带量采购"]),  # several terms: all of them
        (f"{RARE} 通知", [RARE, "通知"]),
    ],
)
def test_hits_are_exactly_the_documents_containing_the_terms(
    archive: Archive, query: str, terms: list[str]
) -> None:
    truth = archive.truth(*terms)
    assert truth, f"{terms} occur nowhere: the test would prove nothing"
    assert len(truth) < len(archive.docs) or query == "门诊"
    hits = search(archive.db, query, limit=ALL)
    assert set(ids(hits)) == truth
    assert len(hits) == len(truth)  # no duplicates
    assert search_count(archive.db, query) == len(truth)
    assert search_ids(archive.db, query) == truth
    scores = [hit.score for hit in hits]
    assert scores == sorted(scores)  # best (lowest bm25) first


def test_phrases_do_not_match_the_text_without_their_separator(archive: Archive) -> None:
    assert set(ids(search(archive.db, '"互联网+医保"', limit=ALL))) == {archive.ids["phrase"]}
    assert archive.ids["phrase_contrast"] in archive.truth("互联网医保")
    assert archive.ids["phrase_contrast"] in set(ids(search(archive.db, "互联网医保", limit=ALL)))
    spaced = set(ids(search(archive.db, '"异地就医 直接结算"', limit=ALL)))
    assert spaced == {archive.ids["phrase"]}


def test_a_title_hit_ranks_above_body_only_hits(archive: Archive) -> None:
    hits = search(archive.db, RARE, limit=ALL)
    assert ids(hits) == [
        archive.ids["rare_title"],
        archive.ids["rare_body_thrice"],
        archive.ids["rare_body_once"],
    ]
    assert hits[0].title == f"关于{RARE}计划试点工作的通知"
    assert f"<b>{RARE}</b>" in hits[1].snippet
    assert hits[0].bureau == "厦门市思明区医疗保障局"
    assert hits[0].region_code == "350203"


def test_paging_and_count_agree(archive: Archive) -> None:
    every = ids(search(archive.db, "救助", limit=ALL))
    pages = [ids(search(archive.db, "救助", limit=25, offset=o)) for o in range(0, len(every), 25)]
    assert [i for page in pages for i in page] == every
    assert search_count(archive.db, "救助") == len(every)


def test_query_errors_and_empty_queries(archive: Archive) -> None:
    with pytest.raises(QueryError):
        search(archive.db, "-医保")
    with pytest.raises(QueryError):
        search_count(archive.db, "-医保", DocumentFilter(kinds=("policy",)))
    assert search(archive.db, "", filters=DocumentFilter(kinds=("policy",))) == []
    assert search_count(archive.db, "   ") == 0
    assert search(archive.db, "不存在的词组甲乙") == []


# --- filters against a brute-force Python filter ----------------------------------------------------

Case = tuple[DocumentFilter, Callable[[dict[str, Any]], bool]]


def _dated(lo: str, hi: str) -> Callable[[dict[str, Any]], bool]:
    return lambda d: d["published_on"] is not None and lo <= d["published_on"] <= hi


CASES: dict[str, Case] = {
    "province": (DocumentFilter(regions=("350000",)), lambda d: d["region_code"][:2] == "35"),
    "city": (DocumentFilter(regions=("350200",)), lambda d: d["region_code"][:4] == "3502"),
    "county": (DocumentFilter(regions=("350203",)), lambda d: d["region_code"] == "350203"),
    "two regions": (
        DocumentFilter(regions=("350900", "440000")),
        lambda d: d["region_code"][:4] == "3509" or d["region_code"][:2] == "44",
    ),
    "kind": (DocumentFilter(kinds=("policy",)), lambda d: d["kind"] == "policy"),
    "classes": (DocumentFilter(classes=("a", "丙")), lambda d: d["reply_class"] in ("A", "C")),
    "status": (DocumentFilter(statuses=("withdrawn",)), lambda d: d["status"] == "withdrawn"),
    "validity": (DocumentFilter(validity=("失效",)), lambda d: d["validity"] == "失效"),
    "portal": (DocumentFilter(portals=("sichuan",)), lambda d: "sichuan" in d["portals"]),
    "portals": (
        DocumentFilter(portals=("fujian_ningde", "nhsa")),
        lambda d: bool({"fujian_ningde", "nhsa"} & d["portals"]),
    ),
    "year": (DocumentFilter(since="2025", until="2025"), _dated("2025-01-01", "2025-12-31")),
    "months": (DocumentFilter(since="2024-02", until="2025-02"), _dated("2024-02-01", "2025-02-28")),
    "days": (DocumentFilter(since="2025-03-10", until="2025-06-30"), _dated("2025-03-10", "2025-06-30")),
    "combined": (
        DocumentFilter(
            regions=("350000",),
            kinds=("suggestion_reply", "proposal_reply"),
            classes=("A", "B"),
            since="2024-01-01",
            until="2026-06",
        ),
        lambda d: (
            d["region_code"].startswith("35")
            and d["kind"].endswith("_reply")
            and d["reply_class"] in ("A", "B")
            and _dated("2024-01-01", "2026-06-30")(d)
        ),
    ),
    "combined with portal": (
        DocumentFilter(portals=("fujian_xiamen",), kinds=("policy", "notice"), statuses=("active",)),
        lambda d: (
            "fujian_xiamen" in d["portals"] and d["kind"] in ("policy", "notice") and d["status"] == "active"
        ),
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_filters_match_brute_force(archive: Archive, name: str) -> None:
    filters, keep = CASES[name]
    expected_docs = {i for i, d in archive.docs.items() if keep(d)}
    assert expected_docs, "a filter nothing passes proves nothing"
    assert len(expected_docs) < len(archive.docs)
    assert count_documents(archive.db, filters) == len(expected_docs)
    found = 0
    for query, terms in (("救助", ["救助"]), ("医保 通知", ["医保", "通知"]), ("通知", ["通知"])):
        expected = archive.truth(*terms) & expected_docs
        found += len(expected)
        hits = search(archive.db, query, filters=filters, limit=ALL)
        assert set(ids(hits)) == expected, query
        assert search_count(archive.db, query, filters) == len(expected) == len(hits)
        # the filtered ranking is the unfiltered one with the other documents left out
        unfiltered = [h for h in search(archive.db, query, limit=ALL) if h.document_id in expected]
        assert [h.score for h in hits] == [h.score for h in unfiltered]
    assert found, "no query hit a filtered document: the search half of the test proved nothing"


def test_filters_apply_before_the_page_is_cut(archive: Archive) -> None:
    filters = DocumentFilter(kinds=("report",))
    every = ids(search(archive.db, "门诊", filters=filters, limit=ALL))
    assert len(every) > 10
    assert ids(search(archive.db, "门诊", filters=filters, limit=5, offset=5)) == every[5:10]


def test_the_hand_made_documents_pass_the_filters_they_should(archive: Archive) -> None:
    got = {
        h.document_id
        for h in search(archive.db, RARE, filters=DocumentFilter(regions=("350200",)), limit=ALL)
    }
    assert got == {archive.ids["rare_title"], archive.ids["rare_body_once"]}  # 350203 and 350211
    tricky = '"医保,码"'  # the tricky document's first posting is on fujian_xiamen, its repost on sichuan
    for portal in ("fujian_xiamen", "sichuan"):
        assert ids(search(archive.db, tricky, filters=DocumentFilter(portals=(portal,)))) == [
            archive.ids["tricky"]
        ]
    assert search(archive.db, tricky, filters=DocumentFilter(portals=("nhsa",))) == []
    undated = DocumentFilter(since="1900")
    assert archive.ids["undated"] not in set(ids(search(archive.db, "通知", filters=undated, limit=ALL)))


# --- DocumentFilter ---------------------------------------------------------------------------------


def test_filter_normalises_its_values() -> None:
    f = DocumentFilter(portals=["a", "a"], classes=["甲", "b"], since="2024", until="2024-02")  # type: ignore[arg-type]
    assert f.portals == ("a",)
    assert f.classes == ("A", "B")
    assert (f.since, f.until) == ("2024-01-01", "2024-02-29")
    assert DocumentFilter(until="2025").until == "2025-12-31"
    assert DocumentFilter(since="2025/3/5").since == "2025-03-05"
    assert DocumentFilter().empty
    assert not DocumentFilter(statuses=("active",)).empty
    assert DocumentFilter().where() == ("1", [])
    sql, params = DocumentFilter(kinds=("policy",), regions=("350200",)).where("x")
    assert "x.kind IN (?)" in sql
    assert params == ["3502??", "policy"]
    assert DocumentFilter(kinds=("policy",)).to_dict() == {"kinds": ["policy"]}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"since": "2025-13"},
        {"until": "2025-02-30"},
        {"since": "yesterday"},
        {"regions": ("3502",)},
        {"regions": ("３５０２００",)},
        {"kinds": ("memo",)},
        {"classes": ("E",)},
        {"statuses": ("deleted",)},
    ],
)
def test_bad_filter_values_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(FilterError):
        DocumentFilter(**kwargs)


def test_helpers() -> None:
    assert region_pattern("350000") == "35????"
    assert region_pattern("350200") == "3502??"
    assert region_pattern("350203") == "350203"
    assert normalise_date("2024-2", end=True) == "2024-02-29"
    with pytest.raises(ValueError, match="alias"):
        DocumentFilter(kinds=("policy",)).where("d; DROP TABLE documents")


# --- deputies and adoption (which replies to a given deputy were only 部分采纳) ------------------------


def _most_common_deputy(archive: Archive) -> str:
    counts: dict[str, int] = {}
    for doc in archive.docs.values():
        for name in doc["deputies"]:
            counts[name] = counts.get(name, 0) + 1
    name, count = max(counts.items(), key=lambda item: item[1])
    assert count >= 2, "no deputy is addressed twice: the test would prove little"
    return name


def test_deputy_and_adoption_filters_match_brute_force(archive: Archive) -> None:
    deputy = _most_common_deputy(archive)
    cases: list[Case] = [
        (DocumentFilter(deputies=(deputy,)), lambda d: deputy in d["deputies"]),
        (DocumentFilter(deputies=("张三", "王五")), lambda d: bool({"张三", "王五"} & set(d["deputies"]))),
        (DocumentFilter(adoption=("部分采纳",)), lambda d: "部分采纳" in d["record"]["adoption"]),
        (
            DocumentFilter(adoption=("留作参考", "暂不采纳"), kinds=("proposal_reply", "suggestion_reply")),
            lambda d: d["kind"].endswith("_reply") and bool({"留作参考", "暂不采纳"} & set(d["record"]["adoption"])),
        ),
        (
            DocumentFilter(deputies=("张三",), adoption=("部分采纳",), classes=("A",)),
            lambda d: "张三" in d["deputies"] and "部分采纳" in d["record"]["adoption"] and d["reply_class"] == "A",
        ),
    ]
    for filters, keep in cases:
        expected_docs = {i for i, d in archive.docs.items() if keep(d)}
        assert expected_docs, filters
        assert len(expected_docs) < len(archive.docs)
        assert count_documents(archive.db, filters) == len(expected_docs), filters
        for query, terms in (("建议", ["建议"]), ("答复", ["答复"])):
            expected = archive.truth(*terms) & expected_docs
            assert {h.document_id for h in search(archive.db, query, filters=filters, limit=ALL)} == expected
            assert search_count(archive.db, query, filters) == len(expected)


def test_deputy_and_adoption_values_are_compacted() -> None:
    f = DocumentFilter(deputies=["张  三", "张三", " "], adoption=["部分 采纳"])  # type: ignore[arg-type]
    assert (f.deputies, f.adoption) == (("张三",), ("部分采纳",))
    assert not f.empty
    assert DocumentFilter(deputies=[" "]).empty  # type: ignore[arg-type]


def test_adoption_terms_are_what_the_normalizer_finds() -> None:
    from core.normalize.reply import ADOPTION_RE, ADOPTION_TERMS

    assert all(ADOPTION_RE.fullmatch(term) for term in ADOPTION_TERMS)


# --- by date -------------------------------------------------------------------------------------------


def _by_date(archive: Archive, ids_: set[int], newest: bool) -> list[int]:
    def key(i: int) -> tuple[bool, str, int]:
        published = archive.docs[i]["published_on"]
        return (published is None, published or "", i)

    dated = sorted((i for i in ids_ if archive.docs[i]["published_on"]), key=key, reverse=newest)
    return dated + sorted((i for i in ids_ if not archive.docs[i]["published_on"]), reverse=newest)


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_sorted_by_date_with_undated_documents_last(archive: Archive, sort: str) -> None:
    truth = archive.truth("通知")
    assert archive.ids["undated"] in truth
    hits = search(archive.db, "通知", sort=sort, limit=ALL)
    assert ids(hits) == _by_date(archive, truth, newest=sort == "newest")
    assert ids(hits)[-1] == archive.ids["undated"]
    pages = [ids(search(archive.db, "通知", sort=sort, limit=7, offset=o)) for o in range(0, len(truth), 7)]
    assert [i for page in pages for i in page] == ids(hits)
    assert all(h.score is None for h in hits)  # no bm25 by date
    assert all(h.snippet and h.title for h in hits)


def test_sorted_by_date_with_filters(archive: Archive) -> None:
    filters = DocumentFilter(regions=("350000",), since="2024")
    expected = {i for i in archive.truth("医保") if archive.docs[i]["region_code"].startswith("35")}
    expected = {i for i in expected if (archive.docs[i]["published_on"] or "") >= "2024-01-01"}
    assert len(expected) > 3
    hits = search(archive.db, "医保", filters=filters, sort="newest", limit=ALL)
    assert ids(hits) == _by_date(archive, expected, newest=True)
    with pytest.raises(ValueError, match="unknown sort"):
        search(archive.db, "医保", sort="random")
