"""The generic family: a new portal added by a user config entry only (CSS selectors, no code),
crawled for real against replica sites and a local site, checked against the pages' truth."""

from __future__ import annotations

import json
import unicodedata
from urllib.parse import urlsplit

import pytest

from tests.crawler.helpers import generic_portal, local_site, query, run_stats, write_config
from tests.e2e.warm import helpers_crawl as crawl


def fold(text: str | None) -> str:
    """Comparison form of a text: width folded, all whitespace removed."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def archived(archive) -> dict[str, tuple[str, str, dict]]:
    """url -> (document title, latest body text, latest record) for every posting in the archive."""
    rows = query(
        archive,
        "SELECT p.url, d.title, v.body_text, v.record_json FROM postings p JOIN documents d ON d.id = p.document_id"
        " JOIN versions v ON v.id = d.latest_version_id",
    )
    return {url: (title, body, json.loads(record)) for url, title, body, record in rows}


def test_generic_portal_on_the_zhongshan_nfcms_column_follows_next_page(make_replicas, tmp_path):
    server = make_replicas(docs=30)
    world = server.world
    for _ in range(20):  # 25 documents in the column: two list pages of 20
        world.publish("guangdong_zhongshan", "qtwj")
    base = server.urls["guangdong_zhongshan"]
    archive = tmp_path / "archive.db"
    config = write_config(
        tmp_path / "user.toml",
        archive,
        generic_portal(
            "zs_generic",
            base + "/ybj/zwgk/zcwj/qtwj/index.html",
            name="中山市医疗保障局（通用）",
            link="ul.news_list li a",
            body="div.article-content",
            title="h1.article-title",
            next_page="a.next",
        ),
    )
    code, summary = crawl(config, "zs_generic", cwd=tmp_path)
    assert code == 0, summary
    assert summary["zs_generic"]["health"] == "ok"

    truth = {
        base + world.urls(d.doc_id)["nfcms"]: world.truth(d.doc_id, "nfcms")
        for d in world.docs("guangdong_zhongshan")
        if d.column == "qtwj"
    }
    assert len(truth) == 25
    got = archived(archive)
    assert set(got) == set(truth)
    assert summary["zs_generic"]["new"] == len(got)
    for url, (title, body, record) in got.items():
        assert title == truth[url]["title"], url
        assert fold(body) == fold(truth[url]["body_text"]), url
        assert record["portal_id"] == "zs_generic"
        assert record["kind"] == truth[url]["kind"], url
    paths = [path for _, path, _ in world.stats("guangdong_zhongshan")["guangdong_zhongshan"]["log"]]
    lists = [p for p in paths if "/content/" not in p]
    assert lists == ["/robots.txt", "/ybj/zwgk/zcwj/qtwj/index.html", "/ybj/zwgk/zcwj/qtwj/index_2.html"]
    assert sorted(p for p in paths if "/content/" in p) == sorted(
        urlsplit(u).path for u in truth
    )  # once each
    stats = run_stats(archive, "zs_generic")
    assert (stats["yibao/list_pages"], stats["yibao/listed"]) == (2, 25)


def test_generic_portal_on_the_xiamen_trs_column_reads_page_one(make_replicas, tmp_path):
    """TRS pagers are written by script: without ``next_page`` the generic spider reads page 1 only."""
    server = make_replicas(docs=30)
    world = server.world
    for _ in range(18):  # 23 documents: 20 on page 1, 3 on index_1.htm
        world.publish("fujian_xiamen", "jytabl")
    base = server.urls["fujian_xiamen"]
    archive = tmp_path / "archive.db"
    config = write_config(
        tmp_path / "user.toml",
        archive,
        generic_portal("xm_generic", base + "/zwgk/jytabl/", link="ul.gl_list1 li a", body="div.TRS_Editor"),
    )
    code, summary = crawl(config, "xm_generic", cwd=tmp_path)
    assert code == 0, summary
    page_one = world.site("fujian_xiamen").listed("jytabl")[:20]
    truth = {base + world.urls(d.doc_id)["main"]: world.truth(d.doc_id) for d in page_one}
    got = archived(archive)
    assert set(got) == set(truth)
    for url, (title, body, _record) in got.items():
        assert title == truth[url]["title"], url
        assert fold(body) == fold(truth[url]["body_text"]), url
    paths = {path for _, path, _ in world.stats("fujian_xiamen")["fujian_xiamen"]["log"]}
    assert "/zwgk/jytabl/index_1.htm" not in paths
    assert paths == {"/robots.txt", "/zwgk/jytabl/"} | {world.urls(d.doc_id)["main"] for d in page_one}


# -- the selectors decide: a local site whose markup defeats the shared heuristics ------------------------

SIDEBAR = "".join(
    f"<p>热点链接{i}：这是一段与正文无关、但文字很多的侧栏推荐内容，用于干扰正文密度判断。</p>"
    for i in range(8)
)
ARTICLE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>某市医疗保障局门户网站</title></head>
<body><h1>某市医疗保障局</h1>
<div class="sidebar">{sidebar}</div>
<div class="doc-head"><div class="doc-title">{title}</div><span class="pubdate" data-date="{date}">{date}</span></div>
<div class="doc-body"><p>{first}</p><p>第二段：本通知自印发之日起施行。</p></div>
</body></html>"""
DOCS = [
    (f"/info/{i}.html", f"关于印发某市医疗保障基金监督管理办法第{i}号配套细则的通知", f"2025-0{i}-1{i}")
    for i in range(1, 6)
]


def list_page(items: list[tuple[str, str, str]], next_href: str | None) -> str:
    links = "".join(f'<li><a href="{path}">{title[:10]}…</a></li>' for path, title, _ in items)  # truncated
    pager = f'<div class="pager"><a class="next" href="{next_href}">下一页</a></div>' if next_href else ""
    return (
        '<html><head><meta charset="utf-8"></head><body><div class="nav"><a href="/">首页</a>'
        f'<a href="/about.html">关于我们</a></div><ul class="doc-list">{links}</ul>{pager}</body></html>'
    )


@pytest.fixture
def selector_site():
    with local_site() as site:
        site.page("/robots.txt", "User-agent: *\nDisallow:\n", Content_Type="text/plain")
        site.page("/list/", list_page(DOCS[:3], "/list/index_2.html"))
        site.page("/list/index_2.html", list_page(DOCS[3:], None))
        for i, (path, title, date) in enumerate(DOCS, start=1):
            body = ARTICLE.format(sidebar=SIDEBAR, title=title, date=date, first=f"第一段：第{i}号细则正文。")
            site.page(path, body)
        yield site


@pytest.mark.parametrize(
    ("title", "date"),
    [
        pytest.param("div.doc-title", "span.pubdate", id="elements"),
        pytest.param(
            "div.doc-title, h2.subtitle",
            "time.published, div.doc-head > span.pubdate::attr(data-date)",
            id="selector-lists-and-pseudo-elements",
        ),
    ],
)
def test_generic_selectors_pick_title_date_and_body(selector_site, tmp_path, title, date):
    site = selector_site
    archive = tmp_path / "archive.db"
    config = write_config(
        tmp_path / "user.toml",
        archive,
        generic_portal(
            "local_generic",
            site.url + "/list/",
            kind="policies",
            link="ul.doc-list a",
            body="div.doc-body",
            title=title,
            date=date,
            next_page="div.pager a.next",
        ),
    )
    code, summary = crawl(config, "local_generic", cwd=tmp_path)
    assert code == 0, summary
    got = archived(archive)
    assert set(got) == {site.url + path for path, _, _ in DOCS}
    for i, (path, title, date) in enumerate(DOCS, start=1):
        doc_title, body, record = got[site.url + path]
        assert doc_title == title  # the title selector, not the truncated link text nor the <h1>
        assert record["published_on"] == date  # the date selector
        article = f"第一段：第{i}号细则正文。第二段：本通知自印发之日起施行。"
        assert fold(body) == fold(article)  # the body selector, not the denser sidebar
    assert site.paths().count("/list/index_2.html") == 1
    assert "/" not in site.paths()
    assert "/about.html" not in site.paths()


def test_generic_second_run_is_incremental(selector_site, tmp_path):
    site = selector_site
    archive = tmp_path / "archive.db"
    config = write_config(
        tmp_path / "user.toml",
        archive,
        generic_portal(
            "local_generic",
            site.url + "/list/",
            link="ul.doc-list a",
            body="div.doc-body",
            title="div.doc-title",
            next_page="a.next",
        ),
    )
    assert crawl(config, "local_generic", cwd=tmp_path)[1]["local_generic"]["new"] == len(DOCS)
    extra = ("/info/6.html", "关于调整某市医疗保障基金监督管理办法第6号配套细则的通知", "2025-06-16")
    site.page("/list/", list_page([extra, *DOCS[:2]], "/list/index_2.html"))
    site.page(
        extra[0], ARTICLE.format(sidebar=SIDEBAR, title=extra[1], date=extra[2], first="新增细则正文。")
    )
    before = len(site.hits)
    code, summary = crawl(config, "local_generic", cwd=tmp_path)
    assert code == 0, summary
    assert summary["local_generic"]["new"] == 1
    assert query(archive, "SELECT COUNT(*) FROM documents")[0][0] == len(DOCS) + 1
    second = site.paths()[before:]
    assert second.count(extra[0]) == 1
    assert second.count("/list/index_2.html") == 1  # page 1 brought something new: page 2 is looked at
