"""The archive's Datasette, in process (Datasette's own ASGI client) over a real crawled archive:
pages, search and filters, document pages with diffs, charts, feed, canned queries, and safety."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path

import feedparser
import httpx
import pytest

from storage import open_db, record, search_count, search_ids, start_run
from storage.query import DocumentFilter
from tests.storage.factories import policy
from webui.app import make_datasette, prepare_archive

ESCAPED = "&lt;script&gt;alert("


def get(ds, url: str) -> httpx.Response:
    return asyncio.run(ds.client.get(url))


@pytest.fixture(scope="module")
def ds(archive):
    prepare_archive(archive.path)
    return make_datasette(archive.path)


def hit_ids(page: str) -> list[int]:
    return [int(x) for x in re.findall(r'class="yibao-hit" data-id="(\d+)"', page)]


def test_home_shows_totals_and_latest_changes_escaped(ds, archive):
    page = get(ds, "/")
    assert page.status_code == 200
    (documents,) = archive.query("SELECT COUNT(*) FROM documents")[0]
    assert f"<strong>{documents}</strong>文档" in page.text
    assert f'href="/archive/documents/{archive.edited_id}"' in page.text
    assert "已撤下" in page.text  # the withdrawal is among the latest changes
    assert "<script>alert" not in page.text
    assert ESCAPED in page.text


@pytest.mark.parametrize("term", ["医保", "门诊共济", '"医疗保障局"', "医保 基金"])
def test_search_page_lists_what_the_index_finds(ds, archive, term):
    page = get(ds, f"/-/search?q={term}")
    assert page.status_code == 200
    db = open_db(archive.path)
    total = search_count(db, term)
    assert total > 0
    assert f"<strong>{total}</strong> results" in page.text
    shown = hit_ids(page.text)
    assert len(shown) == min(total, 20)
    assert set(shown) <= search_ids(db, term)
    assert page.text.count("<mark>") >= len(shown)  # every snippet highlights a term
    db.close()


def test_title_hit_ranks_first_and_markup_in_titles_is_text(ds, archive):
    page = get(ds, "/-/search?q=门诊共济测试")
    assert hit_ids(page.text)[0] == archive.hostile_id
    assert "<script>alert" not in page.text
    assert ESCAPED in page.text


def test_search_filters_match_the_archive(ds, archive):
    db = open_db(archive.path)
    for query, filters in (
        ("region=350000", DocumentFilter(regions=("350000",))),
        ("region=510000&kind=policy", DocumentFilter(regions=("510000",), kinds=("policy",))),
        ("status=withdrawn", DocumentFilter(statuses=("withdrawn",))),
        ("since=2025&until=2025-12", DocumentFilter(since="2025", until="2025-12")),
    ):
        page = get(ds, f"/-/search?q=医疗&{query}")
        assert page.status_code == 200, query
        expected = search_count(db, "医疗", filters)
        assert f"<strong>{expected}</strong> results" in page.text, query
        regions = {r for (r,) in archive.query("SELECT region_code FROM documents")}
        assert len(regions) >= 2  # the filter has something to exclude
    (withdrawn,) = archive.query("SELECT id FROM documents WHERE status = 'withdrawn'")
    assert hit_ids(get(ds, "/-/search?q=医疗&status=withdrawn").text) in ([withdrawn[0]], [])
    db.close()


def test_search_by_portal_deputy_and_adoption(ds, archive):
    """The facets of "which replies to a given deputy were only 部分采纳", from the crawled pages."""
    (deputy,) = archive.query(
        "SELECT j.value FROM documents d, json_each(d.deputies) j GROUP BY j.value ORDER BY COUNT(*) DESC LIMIT 1"
    )[0]
    (adoption, kind) = archive.query(  # the most common (adoption, kind) of the corpus
        "SELECT j.value, d.kind FROM documents d JOIN versions v ON v.id = d.latest_version_id,"
        " json_each(v.record_json, '$.adoption') j GROUP BY j.value, d.kind ORDER BY COUNT(*) DESC, 1, 2 LIMIT 1"
    )[0]
    db = open_db(archive.path)
    for query, filters in (
        ("portal=sichuan", DocumentFilter(portals=("sichuan",))),
        (f"deputy={deputy}", DocumentFilter(deputies=(deputy,))),
        (f"adoption={adoption}&kind={kind}", DocumentFilter(adoption=(adoption,), kinds=(kind,))),
    ):
        expected = search_count(db, "答复", filters)
        assert 0 < expected < search_count(db, "答复"), query
        page = get(ds, f"/-/search?q=答复&{query}")
        assert f"<strong>{expected}</strong> results" in page.text, query
    page = get(ds, "/-/search?q=答复")
    assert '<option value="sichuan">' in page.text  # the portal select lists the registry's portals
    assert '<option value="部分采纳">' in page.text  # the adoption vocabulary as suggestions
    db.close()


def test_browse_with_facets_keeps_the_search_and_its_filters(ds, archive):
    (deputy,) = archive.query(  # a deputy of a suggestion reply (the filter below combines both)
        "SELECT j.value FROM documents d, json_each(d.deputies) j WHERE d.kind = 'suggestion_reply'"
        " GROUP BY j.value ORDER BY COUNT(*) DESC, 1 LIMIT 1"
    )[0]
    db = open_db(archive.path)
    for query, filters in (
        ("", DocumentFilter()),
        ("&region=350000&kind=suggestion_reply", DocumentFilter(regions=("350000",), kinds=("suggestion_reply",))),
        ("&since=2025&until=2026-06&status=active", DocumentFilter(since="2025", until="2026-06", statuses=("active",))),
        (f"&deputy={deputy}&kind=suggestion_reply", DocumentFilter(deputies=(deputy,), kinds=("suggestion_reply",))),
    ):
        page = get(ds, f"/-/search?q=答复{query}")
        expected = search_count(db, "答复", filters)
        assert expected > 0, query
        (link,) = re.findall(r'class="yibao-table-link" href="([^"]+)"', page.text)
        link = link.replace("&amp;", "&")
        table = get(ds, link.replace("/archive/documents?", "/archive/documents.json?") + "&_size=0").json()
        assert table["filtered_table_rows_count"] == expected, query
    assert "yibao-table-link" not in get(ds, "/-/search?q=答复&portal=sichuan").text  # no column form
    db.close()


def test_pager_keeps_query_filters_and_sort(ds, archive, monkeypatch):
    from webui import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 4)  # the archive is small
    db = open_db(archive.path)
    filters = DocumentFilter(statuses=("active",))
    assert search_count(db, "的", filters) > 8
    first = get(ds, "/-/search?sort=oldest&q=的&status=active")
    (link,) = re.findall(r'href="([^"]+)">下一页', first.text)
    second = get(ds, link.replace("&amp;", "&"))
    from storage import search

    expected = [h.document_id for h in search(db, "的", filters=filters, sort="oldest", limit=8)]
    assert hit_ids(first.text) + hit_ids(second.text) == expected
    assert "上一页" in second.text
    db.close()


def test_search_page_sorted_by_date(ds, archive):
    page = get(ds, "/-/search?q=医疗&sort=newest")
    shown = hit_ids(page.text)
    assert len(shown) > 3
    dates = dict(archive.query("SELECT id, COALESCE(published_on, '') FROM documents"))
    assert [dates[i] for i in shown] == sorted((dates[i] for i in shown), reverse=True)
    assert '<option value="newest" selected>' in page.text
    assert get(ds, "/-/search?q=医疗&sort=random").status_code == 400


def test_an_unusable_query_in_the_table_search_box_is_a_clear_400(ds, capfd):
    page = get(ds, "/archive/documents?_search=-医保&_table=1")
    assert page.status_code == 400
    assert "needs at least one term" in page.text
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err  # a visitor's mistake is not logged with the server's locals
    assert get(ds, "/archive/search.json?q=-医保&_shape=array").json() == []  # the canned query: no rows


@pytest.mark.parametrize(("url", "message"), [
    ("/-/search?q=-医保", "needs at least one term"),
    ("/-/search?q=医保&since=last+week", "not a date"),
    ("/-/search?q=医保&since=2025-13", "not a date"),
    ("/-/search?q=医保&region=abc", "region"),
    ("/-/search?q=医保&kind=memo", "kind"),
])
def test_bad_search_input_is_a_clear_400(ds, url, message):
    page = get(ds, url)
    assert page.status_code == 400
    assert message in page.text


def test_document_page_shows_versions_and_the_highlighted_diff(ds, archive):
    page = get(ds, f"/archive/documents/{archive.edited_id}")
    assert page.status_code == 200
    assert 'id="v2"' in page.text
    assert 'id="v1"' in page.text
    assert "background-color:#e6ffec" in page.text  # inserted text highlighted
    (url,) = archive.query("SELECT url FROM postings WHERE document_id = ?", archive.edited_id)[0]
    assert f'href="{url}"' in page.text


def test_document_page_escapes_a_crawled_title(ds, archive):
    page = get(ds, f"/archive/documents/{archive.hostile_id}")
    assert page.status_code == 200
    assert "<script>alert" not in page.text
    assert page.text.count(ESCAPED) >= 2  # <title>, heading (and the diff of the title change)


def test_withdrawn_document_is_marked_and_listed(ds, archive):
    page = get(ds, f"/archive/documents/{archive.withdrawn_id}")
    assert "已撤下 withdrawn" in page.text
    rows = get(ds, "/archive/withdrawn_documents.json?_shape=array").json()
    assert [r["id"] for r in rows] == [archive.withdrawn_id]


def test_documents_table_searches_with_our_index_and_facets(ds, archive):
    data = get(ds, "/archive/documents.json?_search=门诊共济&_shape=objects&_size=max").json()
    db = open_db(archive.path)
    assert {r["id"] for r in data["rows"]} == search_ids(db, "门诊共济")
    db.close()
    assert set(data["facet_results"]) >= {"province", "bureau", "kind", "published_year", "reply_class",
                                          "validity", "status"}
    provinces = {v["value"] for v in data["facet_results"]["province"]["results"]}
    assert provinces <= {"福建省", "四川省"}
    assert provinces
    page = get(ds, "/archive/documents?_search=门诊共济&_table=1")
    assert 'name="_search" value="门诊共济"' in page.text  # the search box is shown and kept


@pytest.mark.parametrize(("table", "search"), [
    ("_search=门诊共济", "q=门诊共济"),
    ("_search=门诊共济&kind=suggestion_reply&province=福建省&_nocol=identity_key",
     "q=门诊共济&kind=suggestion_reply&region=350000"),
    ("_search=医保&region_code__glob=3502??&published_on__gte=2025-01-01&reply_class=A",
     "q=医保&region=350200&since=2025-01-01&class=A"),
    ("_search=-医保", "q=-医保"),  # the search page says what is wrong with it
])  # fmt: skip
def test_the_table_search_box_is_answered_by_the_search_page(ds, table, search):
    """An HTML documents-table search is redirected to the search page (fast at any size) with the
    filters it has a form for; JSON, ``_table=1`` and filters it has no form for stay on the table."""
    from urllib.parse import parse_qsl, urlsplit

    page = get(ds, "/archive/documents?" + table)
    assert page.status_code == 302
    location = urlsplit(page.headers["location"])
    assert location.path == "/-/search"
    assert sorted(parse_qsl(location.query)) == sorted(parse_qsl(search))
    for stays in ("/archive/documents.json?_search=医保", "/archive/documents?_search=医保&_table=1",
                  "/archive/documents?_search=医保&bureau=厦门市医疗保障局", "/archive/documents?_search=医保&_sort=id"):
        assert get(ds, stays).status_code == 200, stays


def test_canned_queries(ds, archive):
    rows = get(ds, "/archive/search.json?q=门诊共济测试&_shape=array").json()
    assert rows[0]["id"] == archive.hostile_id
    deputies = [json.loads(d) for (d,) in archive.query("SELECT deputies FROM documents WHERE deputies != '[]'")]
    name = deputies[0][0]
    rows = get(ds, f"/archive/replies_by_deputy.json?deputy={name}&_shape=array").json()
    expected = {i for (i, d) in archive.query("SELECT id, deputies FROM documents") if name in d}
    assert {r["id"] for r in rows} == expected
    (doc_no,) = archive.query("SELECT doc_no FROM documents WHERE doc_no IS NOT NULL LIMIT 1")[0]
    rows = get(ds, f"/archive/documents_by_doc_no.json?doc_no={doc_no}&_shape=array").json()
    assert doc_no in [r["doc_no"] for r in rows]
    changes = get(ds, "/archive/latest_changes.json?_shape=array").json()
    assert changes[0]["kind"] == "withdrawn"


def test_charts_count_what_the_archive_holds(ds, archive):
    page = get(ds, "/-/charts?months=240")
    assert page.status_code == 200
    svg_pub = page.text.split('id="publications"')[1].split("</svg>")[0]
    counted = sum(int(n) for n in re.findall(r'data-count="(\d+)"', svg_pub))
    (published,) = archive.query(
        "SELECT COUNT(*) FROM documents WHERE published_on >= date('now', 'start of month', '-239 months')"
    )[0]
    assert counted == published > 0
    svg_changes = page.text.split('id="changes"')[1].split("</svg>")[0]
    (changes,) = archive.query("SELECT COUNT(*) FROM events WHERE kind NOT IN ('new')")[0]
    assert sum(int(n) for n in re.findall(r'data-count="(\d+)"', svg_changes)) == changes
    assert {"福建省", "四川省"} <= set(re.findall(r'data-region="([^"]+)"', svg_pub))
    assert get(ds, "/-/charts?by=bureau").status_code == 200
    assert get(ds, "/-/charts?by=nonsense").status_code == 400


def test_atom_feed_of_changes(ds, archive):
    response = get(ds, "/-/feeds/changes.atom")
    assert response.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0
    (events,) = archive.query("SELECT COUNT(*) FROM events WHERE document_id IS NOT NULL")[0]
    assert len(parsed.entries) == min(events, 200)
    assert b"<script>" not in response.content
    kinds = {e.tags[0].term for e in get_feed(ds, "/-/feeds/changes.atom?event=edited").entries}
    assert kinds == {"edited"}


def test_a_saved_search_as_a_feed(ds, archive):
    db = open_db(archive.path)
    matching = search_ids(db, "门诊共济")
    db.close()
    url = "/-/feeds/changes.atom?q=门诊共济&region=350000"
    entries = get_feed(ds, url).entries
    (expected,) = archive.query(
        "SELECT COUNT(*) FROM events e JOIN documents d ON d.id = e.document_id"
        f" WHERE d.region_code LIKE '35%' AND d.id IN ({','.join(map(str, matching))})"
    )[0]
    assert len(entries) == expected > 0
    assert any("门诊共济测试" in e.title for e in entries)  # the retitled document's change is in it
    search_page = get(ds, "/-/search?q=门诊共济&region=350000").text
    assert 'href="/-/feeds/changes.atom?q=' in search_page
    assert get(ds, "/-/feeds/changes.atom?q=-医保").status_code == 400


def get_feed(ds, url: str):
    return feedparser.parse(get(ds, url).content)


def test_safe_to_expose_by_default(ds, archive):
    assert get(ds, "/archive.json?sql=select+1").status_code == 403
    assert get(ds, "/archive/documents.json?_where=1=1").status_code == 403
    for private in ("outbox", "identity_keys", "fingerprints"):
        assert get(ds, f"/archive/{private}").status_code == 403, private
    assert get(ds, "/archive.db").status_code in (403, 404)
    for page in ("/-/databases.json", "/-/threads", "/-/versions.json", "/-/plugins"):
        response = get(ds, page)
        assert response.status_code == 404, page
        assert str(archive.path) not in response.text
    with pytest.raises(Exception, match="readonly"):
        asyncio.run(ds.get_database("archive").execute("UPDATE documents SET title = 'x'"))


def test_sql_only_when_enabled(archive):
    ds = make_datasette(archive.path, allow_sql=True)
    rows = get(ds, "/archive.json?sql=select+count(*)+as+n+from+documents&_shape=array").json()
    (documents,) = archive.query("SELECT COUNT(*) FROM documents")[0]
    assert rows == [{"n": documents}]
    assert get(ds, "/archive.json?sql=delete+from+documents").status_code == 400  # read-only still


def test_new_documents_show_up_without_a_restart(archive, tmp_path: Path):
    path = tmp_path / "copy.db"
    shutil.copy(archive.path, path)
    ds = make_datasette(path)
    before = int(re.search(r"<strong>(\d+)</strong> results", get(ds, "/-/search?q=基准等级系数").text)[1])
    db = open_db(path)
    run = start_run(db, "fujian_ningde")
    record(db, policy(), run_id=run)
    db.close()
    assert f"<strong>{before + 1}</strong> results" in get(ds, "/-/search?q=基准等级系数").text
