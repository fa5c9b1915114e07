"""The search paths built for a million documents (docs/search.md, "At scale"), against brute-force truth.

Every order (relevance tiers, newest, oldest, bm25), every query shape (2-, 3-, 4-char terms, phrases,
AND, OR, NOT) and every filter gives exactly the documents containing the query, in the documented
order, page after page; each shortcut (a narrow filter looked up first, the date-ordered walk, the
capped count) is forced on this small archive and must give what the plain path gives.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
import sqlite_utils

from storage import DocumentFilter, build_query, search, search_count
from storage.search import And, Node, Or, Term, fold_search
from tests.query.conftest import RARE, Archive

ALL = 10_000
SEARCH = importlib.import_module("storage.search")

QUERIES = [
    "医保",  # 2 chars, in most documents
    "门诊共",  # 3 chars
    "带量采购",  # 4 chars
    '"互联网+医保"',  # a phrase with punctuation
    '"异地就医 直接结算"',  # a phrase with a space
    "救助 门诊",  # AND
    "救助 OR 带量采购",  # OR
    "门诊 -医保",  # NOT
    "(集采 OR 带量采购) NOT 住院",
    f"{RARE} 通知",
]
SORTS = ("rank", "newest", "oldest", "bm25")


def holds(node: Node | None, text: str) -> bool:
    """The query's truth on one folded text: substring containment, AND/OR/NOT."""
    if node is None:
        return False
    if isinstance(node, Term):
        return node.text in text
    if isinstance(node, Or):
        return any(holds(item, text) for item in node.items)
    assert isinstance(node, And)
    return all(holds(item, text) for item in node.positive) and not any(
        holds(item, text) for item in node.negative
    )


def truth(archive: Archive, query: str, filters: DocumentFilter | None = None) -> set[int]:
    root = build_query(query).root
    passing = _passing(archive, filters)
    return {i for i, text in archive.texts.items() if holds(root, text) and i in passing}


def _passing(archive: Archive, filters: DocumentFilter | None) -> set[int]:
    where, params = (filters or DocumentFilter()).where("d")
    return {row[0] for row in archive.db.execute(f"SELECT d.id FROM documents d WHERE {where}", params)}


def heading(archive: Archive, doc_id: int) -> str:
    doc = archive.docs[doc_id]
    return fold_search(doc["title"] or "") + "\x00" + fold_search(doc["doc_no"] or "")


def expected_order(archive: Archive, query: str, ids: set[int], sort: str) -> list[int]:
    """The documented order: rank = title/文号 satisfy the query first, then the others, newest id first
    within each; newest/oldest = by published_on, undated last, then by id."""
    if sort == "rank":
        root = build_query(query).root
        return sorted(ids, key=lambda i: (not (holds(root, heading(archive, i)) and i in ids), -i))
    dated = sorted((i for i in ids if archive.docs[i]["published_on"]),
                   key=lambda i: (archive.docs[i]["published_on"], i), reverse=sort == "newest")  # fmt: skip
    undated = sorted((i for i in ids if not archive.docs[i]["published_on"]), reverse=sort == "newest")
    return dated + undated


FILTERS: list[dict[str, Any]] = [
    {},
    {"regions": ["350000"], "kinds": ["suggestion_reply"]},
    {"portals": ["sichuan"]},
    {"classes": ["A"]},
    {"since": "2025-01", "until": "2025-06"},
    {"adoption": ["部分采纳"]},
]


PATHS = {  # name -> (FILTER_FIRST and FILTER_FIRST_ALL, DENSE_SAMPLE, WALK_BUDGET)
    "scan": (0, 5, 0),  # every filter checked on the matches; by date: every match read and sorted
    "sample": (0, 10**9, 10**9),  # by date: the sample holds every match, sorted
    "walk": (0, 5, 10**9),  # by date: the documents walked in date order (filters checked on the walk)
    "filter-first": (10**9, 5, 10**9),  # every filter's documents looked up in the index first
}


@pytest.fixture(params=list(PATHS))
def paths(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each of ``storage.search``'s ways to a page, forced (at 1M documents the size of the filter and the
    share of matching documents choose)."""
    for name, value in zip(("FILTER_FIRST", "DENSE_SAMPLE", "WALK_BUDGET"), PATHS[request.param], strict=True):
        monkeypatch.setattr(SEARCH, name, value)
    monkeypatch.setattr(SEARCH, "FILTER_FIRST_ALL", PATHS[request.param][0])
    return str(request.param)


@pytest.mark.parametrize("facets", FILTERS, ids=lambda f: ",".join(f) or "unfiltered")
@pytest.mark.parametrize("query", QUERIES)
def test_every_hit_contains_the_query_in_the_documented_order(
    archive: Archive, paths: str, query: str, facets: dict[str, Any]
) -> None:
    filters = DocumentFilter(**facets)
    expected = truth(archive, query, filters)
    if not facets:
        assert expected, f"{query} occurs nowhere: the test would prove nothing"
    for sort in SORTS if paths in ("scan", "filter-first") else ("newest", "oldest"):
        hits = search(archive.db, query, filters=filters, limit=ALL, sort=sort)
        got = [h.document_id for h in hits]
        assert set(got) == expected, (sort, query, facets)
        assert len(got) == len(expected)  # no duplicates
        if sort != "bm25":
            assert got == expected_order(archive, query, expected, sort), (sort, query, facets)
        assert search_count(archive.db, query, filters) == len(expected)


@pytest.mark.parametrize("sort", SORTS)
@pytest.mark.parametrize("query", ["医保", "门诊 -医保", '"基本医疗保险"'])
def test_pages_follow_each_other(archive: Archive, paths: str, query: str, sort: str) -> None:
    for facets in ({}, {"kinds": ["suggestion_reply", "proposal_reply"]}):
        filters = DocumentFilter(**facets)
        whole = [h.document_id for h in search(archive.db, query, filters=filters, limit=ALL, sort=sort)]
        paged: list[int] = []
        for offset in range(0, len(whole) + 7, 7):
            paged += [h.document_id for h in search(archive.db, query, filters=filters, limit=7,
                                                    offset=offset, sort=sort)]  # fmt: skip
        assert paged == whole, (query, sort, facets)


def test_relevance_scores_are_the_tiers(archive: Archive) -> None:
    hits = search(archive.db, "医保", limit=ALL)
    assert {h.score for h in hits} == {1.0, 2.0}
    for hit in hits:  # tier 1 exactly when the title or the 文号 contains the term
        assert (hit.score == 1.0) == ("医保" in heading(archive, hit.document_id))
    assert search(archive.db, "医保", limit=5, sort="newest")[0].score is None
    assert all(isinstance(h.score, float) and h.score < 0 for h in search(archive.db, "医保", sort="bm25"))


@pytest.mark.parametrize("query", ["医保", "救助 门诊", "门诊共"])
def test_a_capped_count_is_a_lower_bound(archive: Archive, query: str) -> None:
    total = len(truth(archive, query))
    assert total > 1
    assert search_count(archive.db, query, cap=total - 1) == total - 1
    assert search_count(archive.db, query, cap=total + 1) == total
    filters = DocumentFilter(kinds=["policy"])
    assert search_count(archive.db, query, filters, cap=10**6) == len(truth(archive, query, filters))


def test_deputy_filter_reads_the_kept_table(archive: Archive) -> None:
    names = sorted({n for d in archive.docs.values() for n in d["deputies"]})
    assert names
    for name in names[:5]:
        expected = {i for i, d in archive.docs.items() if name in d["deputies"]}
        assert _passing(archive, DocumentFilter(deputies=[name])) == expected
    rows = set(archive.db.execute("SELECT name, document_id FROM document_deputies").fetchall())
    assert rows == {(n, i) for i, d in archive.docs.items() for n in d["deputies"]}
    adoption = set(archive.db.execute("SELECT term, document_id FROM document_adoption").fetchall())
    assert adoption == {(t, i) for i, d in archive.docs.items() for t in d["record"].get("adoption") or []}
    assert adoption  # the corpus has answered points


@pytest.mark.parametrize("term", ["医保", "答复", RARE, "号"])
def test_the_heading_index_is_the_titles_and_doc_nos(archive: Archive, term: str) -> None:
    found = {
        row[0]
        for row in archive.db.execute(
            "SELECT rowid FROM documents_heading_fts WHERE documents_heading_fts MATCH ?", [build_query(term).match]
        )
    }
    expected = {i for i in archive.docs if fold_search(term) in heading(archive, i)}
    assert expected
    assert found == expected


def test_the_documented_sqlite_utils_recipe(archive: Archive) -> None:
    """docs/search.md: ``sqlite-utils search`` cannot read the bigram index (no table is its FTS), and the
    documented ``sqlite-utils query`` with the compiled MATCH expression finds exactly what search finds."""
    from click.testing import CliRunner
    from sqlite_utils.cli import cli

    plain = sqlite_utils.Database(archive.path)
    assert plain["documents"].detect_fts() is None  # what `sqlite-utils search` would need
    refused = CliRunner().invoke(cli, ["search", str(archive.path), "documents", "医保"])
    assert refused.exit_code != 0
    match = build_query("门诊 -医保").match
    assert match is not None
    done = CliRunner().invoke(
        cli,
        [
            "query", str(archive.path),
            "select d.id, d.title from documents_fts f join documents d on d.id = f.rowid"
            " where documents_fts match :q order by d.id",
            "-p", "q", match,
        ],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    found = {row["id"] for row in json.loads(done.output)}
    assert found == truth(archive, "门诊 -医保")
    plain.close()
