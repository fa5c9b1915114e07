"""Pagination in each family's own dialect, over a corpus large enough for several pages."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator

import httpx
import pytest

from replicas.server import ReplicaServer
from replicas.sites.gkmlpt import SID
from replicas.sites.hanweb import COLUMNS
from replicas.world import ReplicaWorld
from tests.replicas.helpers import article_paths, decode

TRS_PAGER = re.compile(r'createPageHTML\((\d+), (\d+), "index", "htm"\)')
SC_PAGER = re.compile(r"createPageHTML\('page_div', (\d+), (\d+), 'list', 'shtml', (\d+)\)")
RECORD = re.compile(r"<record><!\[CDATA\[<li><a href='((?:/col/col\d+)?/art/[^']+)'")


@pytest.fixture(scope="module")
def big() -> Iterator[ReplicaServer]:
    """A read-only world of 1,000 generated documents (121 replies per Fujian column)."""
    server = ReplicaServer(ReplicaWorld(docs=1000, seed=7)).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as c:
        yield c


def listed_paths(server: ReplicaServer, portal_id: str, column: str) -> list[str]:
    site = server.world.site(portal_id)
    return [site.primary_path(d) for d in site.listed(column)]


@pytest.mark.parametrize(("portal_id", "size"), [("fujian_xiamen", 20), ("fujian_ningde", 15)])
def test_trs_pages_are_index_then_index_1(
    big: ReplicaServer, http: httpx.Client, portal_id: str, size: int
) -> None:
    base = big.urls[portal_id] + "/zwgk/jytabl/"
    expected = listed_paths(big, portal_id, "jytabl")
    pages = math.ceil(len(expected) / size)
    assert pages >= 5
    seen: list[str] = []
    for k in range(pages):
        url = base + ("index.htm" if k == 0 else f"index_{k}.htm")
        resp = http.get(url)
        assert resp.status_code == 200, url
        markup = decode(resp)
        count, current = map(int, TRS_PAGER.search(markup).groups())  # type: ignore[union-attr]
        assert (count, current) == (pages, k)  # first argument: page count; second: 0-based index
        links = article_paths(portal_id, "/zwgk/jytabl/", markup)
        assert len(links) == (size if k < pages - 1 else len(expected) - size * (pages - 1))
        seen += links
    assert seen == expected  # every document exactly once, newest first
    first = http.get(big.urls[portal_id] + seen[0])
    assert first.status_code == 200


def test_trs_column_root_is_page_one(big: ReplicaServer, http: httpx.Client) -> None:
    base = big.urls["fujian_xiamen"] + "/zwgk/jytabl/"
    links_root = article_paths("fujian_xiamen", "/zwgk/jytabl/", http.get(base).text)
    links_index = article_paths("fujian_xiamen", "/zwgk/jytabl/", http.get(base + "index.htm").text)
    assert links_root == links_index
    assert len(links_root) == 20


def test_trs_beyond_last_page(big: ReplicaServer, http: httpx.Client) -> None:
    for portal_id, size in (("fujian_xiamen", 20), ("fujian_ningde", 15)):
        pages = math.ceil(len(listed_paths(big, portal_id, "jytabl")) / size)
        resp = http.get(big.urls[portal_id] + f"/zwgk/jytabl/index_{pages}.htm")
        if portal_id == "fujian_xiamen":
            assert resp.status_code == 404
        else:  # Ningde: a short stub page with no article links
            assert resp.status_code == 200
            assert len(resp.content) < 400
            assert article_paths(portal_id, "/zwgk/jytabl/", decode(resp)) == []
        deeper = http.get(big.urls[portal_id] + f"/zwgk/jytabl/index_{pages + 7}.htm")
        assert deeper.status_code == resp.status_code


def test_sichuan_list_2_is_page_two(big: ReplicaServer, http: httpx.Client) -> None:
    site = big.world.site("sichuan")
    column = site.column_path("jyta")  # /scylbzj/c108923/list.shtml
    base = big.urls["sichuan"] + column.rsplit("/", 1)[0] + "/"
    expected = listed_paths(big, "sichuan", "jyta")
    pages = math.ceil(len(expected) / 15)
    seen: list[str] = []
    for n in range(1, pages + 1):
        resp = http.get(base + ("list.shtml" if n == 1 else f"list_{n}.shtml"))
        assert resp.status_code == 200
        count, current, records = map(int, SC_PAGER.search(resp.text).groups())  # type: ignore[union-attr]
        assert (count, current, records) == (pages, n, len(expected))
        assert '<div id="page_div"></div>' in resp.text
        seen += article_paths("sichuan", column, resp.text)
    assert seen == expected
    assert http.get(base + "list_1.shtml").status_code == 404  # no _1 in this dialect
    assert http.get(base + f"list_{pages + 1}.shtml").status_code == 404


def test_nfcms_index_2_is_page_two(big: ReplicaServer, http: httpx.Client) -> None:
    base = big.urls["guangdong_zhongshan"] + "/ybj/zwgk/zcwj/qtwj/"
    site = big.world.site("guangdong_zhongshan")
    expected = [site.doc_paths(d)["nfcms"] for d in site.listed("qtwj")]
    pages = math.ceil(len(expected) / 20)
    assert pages >= 3
    seen: list[str] = []
    for n in range(1, pages + 1):
        resp = http.get(base + ("index.html" if n == 1 else f"index_{n}.html"))
        assert resp.status_code == 200
        assert f"<b>{n}</b>" in resp.text
        assert f"共{pages}页" in resp.text
        if n < pages:
            assert f'href="index_{n + 1}.html">下一页' in resp.text
        seen += article_paths("guangdong_zhongshan", "", resp.text)
    assert seen == expected
    assert http.get(base + "index_1.html").status_code == 404
    assert http.get(base + f"index_{pages + 1}.html").status_code == 404


def api(http: httpx.Client, server: ReplicaServer, cid: int, page: int | None, sid: str = SID) -> dict:
    query = f"?sid={sid}" + (f"&page={page}" if page is not None else "")
    resp = http.get(server.urls["guangdong_zhongshan"] + f"/ybj/gkmlpt/api/all/{cid}{query}")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("application/json")
    return resp.json()


def test_gkmlpt_api_paging(big: ReplicaServer, http: httpx.Client) -> None:
    site = big.world.site("guangdong_zhongshan")
    first = api(http, big, 0, 1)
    assert api(http, big, 0, 0) == first  # page=0 ≡ page=1
    assert api(http, big, 0, None) == first
    assert first["total"] < first["classify"]["post_count"]
    assert first["total"] == len(site.classified(0)) > 100
    port = big.urls["guangdong_zhongshan"].rsplit(":", 1)[1]
    ids: list[int] = []
    page = 1
    while True:
        batch = api(http, big, 0, page)
        assert batch["offset"] == (page - 1) * 100
        articles = batch["articles"]
        if not articles:
            break
        assert len(articles) <= 100
        if page == 1:
            assert len(articles) == 100
            jumps = [a for a in articles if a["type"] == "url"]
            assert len(jumps) == 1
            assert jumps[0]["url"].startswith("http://www.zs.gov.cn/")
        for art in articles:
            if art["type"] != "normal":
                continue
            ids.append(art["id"])
            assert art["url"].startswith(f"//127.0.0.1:{port}/ybj/gkmlpt/content/")  # protocol-relative
            assert art["post_url"].startswith(f"http://127.0.0.1:{port}/ybj/")
            assert "/content/post_" in art["post_url"]
        page += 1
    assert page == 4
    assert len(ids) == len(set(ids)) == first["total"]
    assert ids == [d.doc_id for d in site.classified(0)]


def test_gkmlpt_api_classify_filter_and_sid(big: ReplicaServer, http: httpx.Client) -> None:
    suggestions = api(http, big, 3001, 1)
    assert suggestions["classify"]["name"] == "人大建议"
    normal = [a for a in suggestions["articles"] if a["type"] == "normal"]
    assert normal
    assert {a["classify_main"] for a in normal} == {3001}
    assert all(big.world.doc(a["id"]).kind == "suggestion_reply" for a in normal)
    policies = api(http, big, 3003, 1)
    assert all(a["type"] == "normal" for a in policies["articles"])  # jump items only in 0 / 人大建议
    assert all(a["document_number"] for a in policies["articles"])
    assert api(http, big, 0, 1, sid="999999")["articles"] == []
    assert (
        http.get(big.urls["guangdong_zhongshan"] + "/ybj/gkmlpt/api/all/4242?sid=" + SID).status_code == 404
    )


def test_gkmlpt_index_embeds_config(big: ReplicaServer, http: httpx.Client) -> None:
    markup = http.get(big.urls["guangdong_zhongshan"] + "/ybj/gkmlpt/index").text
    found = re.search(r"window\._CONFIG = (\{.*?\});</script>", markup)
    assert found
    config = json.loads(found.group(1))
    assert config["SID"] == SID
    names = {c["name"] for node in config["TREE"] for c in [node, *node["children"]]}
    assert {"人大建议", "政协提案", "规范性文件"} <= names
    assert any(node["jump_url"] for node in config["TREE"])


def hanweb_records(xml: str) -> list[str]:
    return RECORD.findall(xml)


def test_hanweb_embedded_datastore_and_windows(big: ReplicaServer, http: httpx.Client) -> None:
    base = big.urls["nhsa"]
    expected = listed_paths(big, "nhsa", "col104")
    total = len(expected)
    assert total > 90
    column = http.get(base + "/col/col104/index.html").text
    island = column[
        column.index('<script type="text/xml"><datastore>') : column.index("</datastore></script>")
    ]
    assert hanweb_records(island) == expected[:45]
    assert f"totalRecord: {total}, perPage: 15" in column
    assert "var param_356383 = {" in column
    assert 'content="大汉版通"' in column

    form = {
        "col": "1",
        "appid": "1",
        "webid": "1",
        "path": "/",
        "columnid": "104",
        "sourceContentType": "1",
        "unitid": COLUMNS["col104"][1],
        "webname": "国家医疗保障局",
        "permissiontype": "0",
    }
    proxy = base + "/module/web/jpage/dataproxy.jsp"
    headers = {"X-Requested-With": "XMLHttpRequest", "Referer": base + "/col/col104/index.html"}
    w1 = http.post(proxy + "?startrecord=1&endrecord=45&perpage=15", data=form, headers=headers)
    assert w1.status_code == 200
    assert w1.headers["content-type"].startswith("text/xml")
    assert hanweb_records(w1.text) == expected[:45]
    assert f"<totalrecord>{total}</totalrecord>" in w1.text
    assert f"<totalpage>{math.ceil(total / 15)}</totalpage>" in w1.text
    w2 = http.post(proxy + "?startrecord=46&endrecord=90&perpage=15", data=form, headers=headers)
    records = hanweb_records(w2.text)
    assert len(records) == 46
    assert records[0] == expected[44]  # look-ahead duplicate: the previous window's last row again
    assert records[1:] == expected[45:90]
    # the GET form: page=2 is the same 46–90 window
    get2 = http.get(proxy, params={**form, "page": "2"})
    assert hanweb_records(get2.text) == records
    # an arbitrary window, honoured as asked (1-based, inclusive)
    w3 = http.post(proxy + "?startrecord=1&endrecord=100&perpage=15", data=form)
    assert hanweb_records(w3.text) == expected[:100]


def test_hanweb_windows_cover_the_column(big: ReplicaServer, http: httpx.Client) -> None:
    expected = listed_paths(big, "nhsa", "col104")
    proxy = big.urls["nhsa"] + "/module/web/jpage/dataproxy.jsp"
    form = {"columnid": "104", "unitid": COLUMNS["col104"][1], "webid": "1", "path": "/"}
    seen: list[str] = []
    start = 1
    while start <= len(expected):
        xml = http.post(proxy + f"?startrecord={start}&endrecord={start + 44}&perpage=15", data=form).text
        records = hanweb_records(xml)
        if start > 1:
            assert records[0] == seen[-1]
            records = records[1:]
        seen += records
        start += 45
    assert seen == expected
    static = http.get(big.urls["nhsa"] + "/col/col104/index.html", params={"uid": "356383", "pageNum": "3"})
    assert hanweb_records(static.text) == expected[30:45]


def test_xiamen_search_api_paging_and_channel_filter(big: ReplicaServer, http: httpx.Client) -> None:
    site = big.world.site("fujian_xiamen")
    url = big.urls["fujian_xiamen"] + "/ssp/search/api/apiSearch"
    common = {"siteId": site.site_id, "apiName": "zcwjk", "searchFiled": "doctitle", "sortFiled": "-pubdate"}
    everything = [site.primary_path(d) for k in site.doc_ids for d in site.listed(k)]
    seen: list[str] = []
    page = 1
    while True:
        body = http.get(url, params={**common, "page": page, "rows": 50}).json()
        assert body["code"] == 200
        assert body["total"] == len(everything)
        if not body["datas"]:
            break
        seen += [d["docpuburl"] for d in body["datas"]]
        stamps = [d["pubdate"] for d in body["datas"]]
        assert stamps == sorted(stamps, reverse=True)
        page += 1
    assert sorted(seen) == sorted(everything)
    assert len(seen) == len(set(seen))
    replies = http.get(url, params={**common, "chnlIdList": "10541", "page": 1, "rows": 100}).json()
    assert replies["total"] == len(site.listed("jytabl"))
    assert {d["chnlname"] for d in replies["datas"]} == {"建议提案办理"}
    two = http.get(url, params={**common, "chnlIdList": "10542,10543", "datas": 5}).json()
    assert two["total"] == len(site.listed("zcwj")) + len(site.listed("ghzj"))
    assert len(two["datas"]) == 5
    assert http.get(big.urls["fujian_xiamen"] + replies["datas"][0]["docpuburl"]).status_code == 200


def test_no_aliases_for_page_one(big: ReplicaServer, http: httpx.Client) -> None:
    """Page 1 has one URL per dialect: no index_0 (TRS), no index_0/_1 (NFCMS), no list_0/_1 (Sichuan)."""
    for portal_id, path in (
        ("fujian_xiamen", "/zwgk/jytabl/index_0.htm"),
        ("fujian_ningde", "/zwgk/jytabl/index_0.htm"),
        ("guangdong_zhongshan", "/ybj/zwgk/zcwj/qtwj/index_0.html"),
        ("guangdong_zhongshan", "/ybj/zwgk/zcwj/qtwj/index_1.html"),
        ("sichuan", "/scylbzj/c108923/list_0.shtml"),
        ("sichuan", "/scylbzj/c108923/list_1.shtml"),
    ):
        assert http.get(big.urls[portal_id] + path).status_code == 404, (portal_id, path)
