"""Template and URL conventions of real pages that the replicas serve: the national bureau's templates
over the years (label/value pairs sharing a line; 名称/索引号/发文字号/发布日期 bullets at year-only URLs) and
the TRS mobile copies ``…_wap.htm``."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import pytest
from parsel import Selector

from core.normalize import build_record, parse_article_url
from core.records import RawPage
from replicas.server import ReplicaServer
from replicas.sites.hanweb import HanwebSite
from replicas.world import ReplicaWorld
from spiders import extract
from tests.replicas.helpers import article_paths, client, decode, visible_text


@pytest.fixture(scope="module")
def server() -> Iterator[ReplicaServer]:
    started = ReplicaServer(ReplicaWorld(docs=400, seed=5)).start()
    yield started
    started.stop()


def fetch(server: ReplicaServer, portal: str, path: str) -> str:
    with client() as c:
        resp = c.get(server.urls[portal] + path)
    assert resp.status_code == 200, path
    return decode(resp)


def nhsa_doc(server: ReplicaServer, template: str):
    return next(d for d in server.world.docs("nhsa") if HanwebSite.template(d) == template and d.doc_no_raw)


def test_nhsa_templates_follow_the_years(server: ReplicaServer) -> None:
    templates = {HanwebSite.template(d) for d in server.world.docs("nhsa")}
    assert templates == {"table", "lines", "bullets"}
    for doc in server.world.docs("nhsa"):
        year = doc.published_at.year
        assert HanwebSite.template(doc) == ("table" if year <= 2023 else "lines" if year <= 2025 else "bullets")


def test_nhsa_labels_share_one_text_node(server: ReplicaServer) -> None:
    doc = nhsa_doc(server, "lines")
    markup = fetch(server, "nhsa", server.world.urls(doc.doc_id)["main"])
    nodes = Selector(text=markup).css("div.xxgk-info p::text").getall()
    assert len(nodes) == 2
    assert re.fullmatch(rf"索\u3000引\u3000号：{re.escape(doc.index_no)}\u3000\u3000发文字号：.+\u3000\u3000主题分类：医疗保障",
                        nodes[0])
    assert " | 成文日期：" in nodes[1]
    assert " | 发布日期：" in nodes[1]
    assert "xxgk_table" not in markup
    truth = server.world.truth(doc.doc_id)
    assert "meta_shared_line" in truth["conventions"]
    assert truth["generated_on"] == doc.generated_on


def test_nhsa_bullets_at_year_only_urls(server: ReplicaServer) -> None:
    doc = nhsa_doc(server, "bullets")
    path = server.world.urls(doc.doc_id)["main"]
    assert re.fullmatch(r"/col/col\d+/art/2026/art_[0-9a-f]{32}\.html", path)
    parsed = parse_article_url("http://www.nhsa.gov.cn" + path)
    assert parsed is not None
    assert (parsed.date, parsed.year) == (None, 2026)
    markup = fetch(server, "nhsa", path)
    bullets = Selector(text=markup).css("ul.gk-list li::text").getall()
    assert [b.split("：", 1)[0] for b in bullets] == ["• 名称", "• 索引号", "• 发文字号", "• 发布日期"]
    truth = server.world.truth(doc.doc_id)
    assert truth["generated_on"] is None  # no 成文日期 on this template
    assert {"meta_bullets", "url_art_year"} <= set(truth["conventions"])
    # the column lists the new URL
    col_path = server.world.site("nhsa").column_path(doc.column)
    listed = set(article_paths("nhsa", col_path, fetch(server, "nhsa", col_path)))
    newest = server.world.site("nhsa").listed(doc.column)[:45]
    assert {server.world.urls(d.doc_id)["main"] for d in newest} == listed


@pytest.mark.parametrize("portal", ["fujian_xiamen", "fujian_ningde"])
def test_trs_mobile_copy(server: ReplicaServer, portal: str) -> None:
    world = server.world
    doc = next(d for d in world.docs(portal) if d.kind.endswith("_reply") and not d.seed)
    urls = world.urls(doc.doc_id)
    assert urls["mobile"] == urls["main"].removesuffix(".htm") + "_wap.htm"
    parsed = parse_article_url("http://h.gov.cn" + urls["mobile"])
    assert parsed is not None
    assert parsed.mobile
    assert parsed.date == doc.published_on
    markup = fetch(server, portal, urls["mobile"])
    text = visible_text(markup)
    assert doc.display_title in text
    assert "索" not in text.split(doc.display_title)[0]  # no 信息公开 block above the title
    truth = world.truth(doc.doc_id, "mobile")
    assert (truth["index_no"], truth["validity"], truth["generated_on"]) == (None, None, None)
    assert truth["conventions"][-1] == "url_wap_copy"
    assert truth["body_text"] == world.truth(doc.doc_id)["body_text"]


def test_trs_lists_link_the_mobile_copy_when_asked(server: ReplicaServer) -> None:
    site = server.world.site("fujian_xiamen")
    col_path = site.column_path("jytabl")
    assert "_wap" not in fetch(server, "fujian_xiamen", col_path)  # off by default
    site.wap_links = 0.5
    try:
        listed = article_paths("fujian_xiamen", col_path, fetch(server, "fujian_xiamen", col_path))
        wap = re.findall(r'href="\./(\d{6}/t\d{8}_\d+_wap\.htm)"', fetch(server, "fujian_xiamen", col_path))
    finally:
        site.wap_links = 0.0
    assert wap  # some entries link the mobile copy, the others the desktop page
    assert listed
    assert len(wap) + len(listed) == site.page_size


def _raw_page(server: ReplicaServer, portal: str, path: str) -> RawPage:
    """What the family spiders take from a page by the traits every family shares (spiders.extract)."""
    from lxml import html as lxml_html

    markup = fetch(server, portal, path)
    sel = Selector(text=markup)
    tags = extract.meta_tags(sel)
    return RawPage(
        portal_id=portal, column="", column_kind="replies", url=server.urls[portal] + path, status=200, html="",
        meta_table=extract.metadata_block(sel), meta_tags=tags, body_html=extract.body_html(lxml_html.fromstring(markup)),
        title=extract.page_title(sel, tags), attachments=extract.attachments(sel, server.urls[portal] + path),
    )


def same(value: object) -> object:
    """Comparison form (as in the extraction-accuracy test): width folded, whitespace removed, empty → None."""
    if isinstance(value, str):
        return "".join(unicodedata.normalize("NFKC", value).split()) or None
    return value or None


FIELDS = ("title", "kind", "doc_no", "index_no", "meeting", "proposal_no", "deputies", "proposal_title", "reply_class",
          "published_on", "signed_on", "contacts", "public_marker", "body_text")


@pytest.mark.parametrize("portal", ["fujian_xiamen", "fujian_ningde"])
def test_mobile_copies_read_like_the_desktop_pages(server: ReplicaServer, portal: str) -> None:
    """The crawl lists desktop pages only; the mobile template is checked here with the same extraction."""
    world = server.world
    checked = 0
    for doc in [d for d in world.docs(portal) if not d.seed][:40]:
        truth = world.truth(doc.doc_id, "mobile")
        record = build_record(_raw_page(server, portal, world.urls(doc.doc_id)["mobile"]), bureau=doc.bureau)
        got = record.to_dict()
        if got["meeting"]:
            got["meeting"] = {k: got["meeting"][k] for k in ("level", "body", "term", "session")}
        for name in FIELDS:
            expected = truth[name] if name != "kind" else doc.kind
            assert same(got[name]) == same(expected), (doc.doc_id, name)
        checked += 1
    assert checked == 40
