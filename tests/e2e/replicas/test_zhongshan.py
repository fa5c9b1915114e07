"""Guangdong family C: one document at three URLs; the gkmlpt detail page and its _CONFIG.DETAIL."""

from __future__ import annotations

import json
import re

import lxml.html

from replicas.server import ReplicaServer
from replicas.sites.gkmlpt import SID
from tests.replicas.helpers import assert_in_order, client, visible_text

DETAIL = re.compile(r"DETAIL:\s*(\{.*?\})\s*,\s*TREE:", re.S)
LABELS = ("索引号", "分类", "发布机构", "成文日期", "名称", "文号", "发布日期", "主题词")


def zs_docs(server: ReplicaServer, kind: str | None = None) -> list:
    return [
        d for d in server.world.docs("guangdong_zhongshan") if not d.seed and (kind is None or d.kind == kind)
    ]


def test_one_document_three_urls(replicas: ReplicaServer) -> None:
    base = replicas.urls["guangdong_zhongshan"]
    for doc in zs_docs(replicas)[:4]:
        urls = replicas.world.urls(doc.doc_id)
        assert (
            urls["gkmlpt"]
            == f"/ybj/gkmlpt/content/{doc.doc_id // 10**6}/{doc.doc_id // 10**3}/post_{doc.doc_id}.html"
        )
        assert urls["nfcms"].endswith(f"/content/post_{doc.doc_id}.html")
        assert urls["mobile"].endswith(f"/content/mpost_{doc.doc_id}.html")
        texts, etags = [], set()
        with client() as c:
            for variant in ("gkmlpt", "nfcms", "mobile"):
                resp = c.get(base + urls[variant])
                assert resp.status_code == 200
                etags.add(resp.headers["etag"])
                texts.append(visible_text(resp.text))
        for text in texts:
            assert doc.display_title in text
            assert_in_order(text, [b.text for b in doc.blocks])
        assert len(etags) == 1  # one document, one validator, whatever the URL
        # the three pages are different templates, not copies
        assert len({t.split(doc.blocks[0].text)[0] for t in texts}) == 3


def test_api_points_at_both_urls(replicas: ReplicaServer) -> None:
    base = replicas.urls["guangdong_zhongshan"]
    with client() as c:
        articles = c.get(base + f"/ybj/gkmlpt/api/all/0?page=1&sid={SID}").json()["articles"]
        normal = [a for a in articles if a["type"] == "normal"][:3]
        for art in normal:
            paths = replicas.world.urls(art["id"])
            assert art["url"].endswith(paths["gkmlpt"])
            assert art["post_url"].endswith(paths["nfcms"])
            one = c.get("http:" + art["url"])
            two = c.get(art["post_url"])
            assert one.status_code == two.status_code == 200
            assert art["title"] in one.text
            assert art["title"] in two.text


def test_gkmlpt_detail_has_eight_labels_and_escaped_detail(replicas: ReplicaServer) -> None:
    doc = next(d for d in zs_docs(replicas, "policy") if d.doc_no_raw)
    with client() as c:
        markup = c.get(replicas.urls["guangdong_zhongshan"] + replicas.world.urls(doc.doc_id)["gkmlpt"]).text
    tree = lxml.html.fromstring(markup)
    cells = [td.text_content() for td in tree.xpath("//table[@class='classify']//td")]
    labels = [c.rstrip("：") for c in cells if c.endswith("：")]
    assert sorted(labels) == sorted(LABELS)
    pairs = {cells[i].rstrip("："): cells[i + 1] for i in range(len(cells) - 1) if cells[i].endswith("：")}
    assert pairs["索引号"] == doc.index_no
    assert re.fullmatch(r"11442000MB2D27401K/\d{4}-\d{5}", pairs["索引号"])
    assert pairs["文号"] == doc.doc_no_raw
    assert pairs["名称"] == doc.display_title
    assert pairs["发布日期"] == doc.published_on
    assert pairs["成文日期"] == doc.generated_on
    body = tree.xpath("//div[@class='article-content']")[0].text_content()
    assert_in_order(body, [b.text for b in doc.blocks])

    raw = DETAIL.search(markup).group(1)  # type: ignore[union-attr]
    assert "\\u003Cp" in raw
    assert "<p" not in raw  # no raw markup inside the script string
    detail = json.loads(raw)
    assert detail["id"] == doc.doc_id
    assert detail["title"] == doc.display_title
    assert detail["content"].startswith("<p")
    assert detail["identifier"] == doc.index_no
    assert detail["document_number"] == doc.doc_no_raw
    assert detail["is_expired"] == int(doc.validity == "失效")
    assert detail["is_abolished"] == int(doc.validity == "废止")
    assert_in_order(visible_text(detail["content"]), [b.text for b in doc.blocks])
    assert f"SID: '{SID}'" in markup


def test_nfcms_detail_markup(replicas: ReplicaServer) -> None:
    doc = zs_docs(replicas, "suggestion_reply")[0]
    with client() as c:
        post = c.get(replicas.urls["guangdong_zhongshan"] + replicas.world.urls(doc.doc_id)["nfcms"]).text
        mpost = c.get(replicas.urls["guangdong_zhongshan"] + replicas.world.urls(doc.doc_id)["mobile"]).text
    assert f'var NFCMS_POST_ID = "{doc.doc_id}"' in post
    assert f'<meta name="ArticleId" content="{doc.doc_id}">' in post
    assert 'wzades="正文"' in post
    assert "【建议提案】" in post
    assert '<body class="mobile">' in mpost
    assert '<body class="mobile">' not in post
