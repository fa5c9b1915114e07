"""``storage.citations.citing_search`` / ``citing_count``: the documents citing a 文号 or 《title》 without a
search query (``yibao search --cites X``), found from the citation indexes and exactly the documents the
``cites`` filter (``cites_where``) passes, newest published first."""

from __future__ import annotations

import sqlite_utils

from core.records import DocumentRecord
from storage import DocumentFilter, count_documents, iter_documents, record
from storage.citations import citing_count, citing_search
from tests.storage.factories import LATER, NOW
from tests.storage.test_citations import OLD_NO, OLD_TITLE, citing_reply, doc_id, new_policy, old_policy

UNARCHIVED = "闽医保〔2020〕9号"  # cited, never archived: its citations stay unresolved


def _reply(n: int, text: str, url: str, published: str | None) -> DocumentRecord:
    return citing_reply(text, url=url, published_on=published, proposal_no=f"010{n}",
                        title=f"对市十六届人大五次会议第010{n}号建议的答复")  # fmt: skip


def _archive(db: sqlite_utils.Database, run_id: int) -> dict[str, int]:
    record(db, old_policy(), run_id=run_id, now=NOW)
    record(db, new_policy(), run_id=run_id, now=NOW)  # abolishes it (2025-03-20), by its title and 文号
    texts = {
        "by_no": ("https://nd.example.gov.cn/r1.html", "2024-05-01", f"根据{OLD_NO}文件精神办理。"),
        "by_title": ("https://nd.example.gov.cn/r2.html", "2023-01-10", f"按照《{OLD_TITLE}》要求执行。"),
        "undated": ("https://nd.example.gov.cn/r3.html", None, f"详见《{OLD_TITLE}》。"),
        "unresolved": ("https://nd.example.gov.cn/r4.html", "2022-06-01", f"按照{UNARCHIVED}文件执行。"),
        "no_longer": ("https://nd.example.gov.cn/r5.html", "2025-07-01", f"根据{OLD_NO}文件精神办理。"),
        "other": ("https://nd.example.gov.cn/r6.html", "2025-08-01", "按照有关规定办理。"),
    }
    for n, (url, published, text) in enumerate(texts.values(), 1):
        record(db, _reply(n, text, url, published), run_id=run_id, now=NOW)
    # its latest version cites something else: the older version's citation no longer counts
    url, published, _ = texts["no_longer"]
    record(db, _reply(5, "按照有关规定办理，特此答复。", url, published), run_id=run_id, now=LATER)
    ids = {name: doc_id(db, url) for name, (url, _, _) in texts.items()}
    ids["old"], ids["new"] = doc_id(db, old_policy().url), doc_id(db, new_policy().url)
    return ids


def _listed(db: sqlite_utils.Database, filters: DocumentFilter, **kw: object) -> list[int]:
    return [hit.document_id for hit in citing_search(db, filters, limit=100, **kw)]  # type: ignore[arg-type]


def test_it_lists_what_the_cites_filter_passes_newest_first(db: sqlite_utils.Database, run_id: int) -> None:
    ids = _archive(db, run_id)
    for value in ("厦医保规[2019]2号", f"《{OLD_TITLE}》", OLD_TITLE, UNARCHIVED, "厦医保规〔2030〕1号"):
        filters = DocumentFilter(cites=(value,))
        expected = sorted(item["id"] for item in iter_documents(db, filters))
        assert sorted(_listed(db, filters)) == expected, value
        assert citing_count(db, filters) == count_documents(db, filters) == len(expected)

    by_no = DocumentFilter(cites=("厦医保规[2019]2号",))
    # the 文号 finds the citations by title too (they resolved to the document with that 文号); not the
    # document whose latest version stopped citing it; undated last
    assert _listed(db, by_no) == [ids["new"], ids["by_no"], ids["by_title"], ids["undated"]]
    assert _listed(db, by_no, sort="oldest") == [ids["by_title"], ids["by_no"], ids["new"], ids["undated"]]
    assert _listed(db, DocumentFilter(cites=(UNARCHIVED,))) == [ids["unresolved"]]
    assert _listed(db, DocumentFilter(cites=(UNARCHIVED, OLD_NO))) == [
        ids["new"], ids["by_no"], ids["by_title"], ids["unresolved"], ids["undated"]]  # fmt: skip


def test_other_facets_and_paging_apply(db: sqlite_utils.Database, run_id: int) -> None:
    ids = _archive(db, run_id)
    replies = DocumentFilter(cites=(OLD_NO,), kinds=("suggestion_reply",), since="2023-06")
    assert _listed(db, replies) == [ids["by_no"]]
    assert citing_count(db, replies) == 1
    by_no = DocumentFilter(cites=(OLD_NO,))
    page = citing_search(db, by_no, limit=2, offset=1)
    assert [hit.document_id for hit in page] == [ids["by_no"], ids["by_title"]]
    assert citing_search(db, by_no, limit=5, offset=10) == []


def test_each_hit_quotes_the_clause_citing_it_marked(db: sqlite_utils.Database, run_id: int) -> None:
    ids = _archive(db, run_id)
    hits = {hit.document_id: hit for hit in citing_search(db, DocumentFilter(cites=(OLD_NO,)), mark=("[", "]"))}
    new = hits[ids["new"]]
    assert (new.relation, new.kind, new.doc_no, new.score) == ("abolishes", "policy", "厦医保规〔2025〕1号", None)
    assert f"原《[{OLD_TITLE}]》" in new.snippet  # the title as printed; the 文号 printed with [] is not the stored form
    assert hits[ids["by_no"]].relation == "implements"
    assert f"[{OLD_NO}]" in hits[ids["by_no"]].snippet
    assert hits[ids["undated"]].relation == "cites"
    assert f"《[{OLD_TITLE}]》" in hits[ids["undated"]].snippet
