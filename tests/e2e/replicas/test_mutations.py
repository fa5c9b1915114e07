"""Mutations of the world are visible on the very next request, via the Python API and the admin API."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Callable

import lxml.html
import pytest
from pypdf import PdfReader

from replicas.model import Document
from replicas.server import ReplicaServer
from replicas.sites.gkmlpt import SID
from tests.replicas.helpers import (
    PORTALS,
    admin,
    article_paths,
    assert_in_order,
    client,
    decode,
    doc_url,
    visible_text,
)

DETAIL = re.compile(r"DETAIL:\s*(\{.*?\})\s*,\s*TREE:", re.S)


def first_listed(server: ReplicaServer, portal_id: str, column: str) -> str:
    """Path of the first article on page 1 of a column, as that family lists it."""
    site = server.world.site(portal_id)
    column_path = site.column_path(column)
    with client() as c:
        markup = decode(c.get(server.urls[portal_id] + column_path))
    return article_paths(portal_id, column_path, markup)[0]


def listed_path(server: ReplicaServer, doc: Document) -> str:
    urls = server.world.urls(doc.doc_id)
    return urls.get("nfcms") or next(iter(urls.values()))


def xiamen_grid(markup: str) -> dict[str, str]:
    cells = lxml.html.fromstring(markup).xpath("//table[@class='xxgk_table']//tr/*")
    return {cells[i].text_content(): cells[i + 1].text_content() for i in range(0, len(cells) - 1, 2)}


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(data)).pages[0].extract_text()


def gkmlpt_article(server: ReplicaServer, doc_id: int) -> dict | None:
    with client() as c:
        for page in (1, 2):
            url = server.urls["guangdong_zhongshan"] + f"/ybj/gkmlpt/api/all/0?page={page}&sid={SID}"
            for art in c.get(url).json()["articles"]:
                if art["id"] == doc_id:
                    return art
    return None


def a_reply(server: ReplicaServer, portal_id: str) -> Document:
    return next(d for d in server.world.docs(portal_id) if not d.seed and d.kind.endswith("_reply"))


# -- publish ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("portal_id", PORTALS)
def test_publish_appears_at_top_of_page_one(replicas: ReplicaServer, portal_id: str) -> None:
    column = replicas.world.site(portal_id).bureau.columns[0].key
    before = first_listed(replicas, portal_id, column)
    doc = replicas.world.publish(portal_id)
    assert doc.column == column
    top = first_listed(replicas, portal_id, column)
    assert top != before
    assert top == listed_path(replicas, doc)
    with client() as c:
        resp = c.get(doc_url(replicas, doc.doc_id))
    assert resp.status_code == 200
    assert doc.display_title in visible_text(decode(resp))


def test_publish_via_admin(replicas: ReplicaServer) -> None:
    new = admin(replicas, "POST", "/portals/sichuan/publish", {"column": "zcwj", "kind": "policy"}).json()
    assert new["kind"] == "policy"
    assert new["portal_id"] == "sichuan"
    assert new["doc_no_raw"]
    url = new["urls"]["main"]
    assert url.startswith(replicas.urls["sichuan"] + "/scylbzj/c108921/")
    with client() as c:
        markup = decode(c.get(url))
    assert new["title"] in markup
    assert first_listed(replicas, "sichuan", "zcwj") == url.removeprefix(replicas.urls["sichuan"])
    assert admin(replicas, "GET", f"/docs/{new['doc_id']}").json()["identity"] == new["identity"]


# -- edit ------------------------------------------------------------------------------------------


def test_edit_changes_body_and_etag(replicas: ReplicaServer) -> None:
    doc = a_reply(replicas, "fujian_xiamen")
    url = doc_url(replicas, doc.doc_id)
    with client() as c:
        before = c.get(url)
        replicas.world.edit(doc.doc_id)
        after = c.get(url)
        stale = c.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert after.headers["etag"] != before.headers["etag"]
    assert "预算总额调整为" in after.text
    assert "预算总额调整为" not in before.text
    assert stale.status_code == 200  # the old validator no longer matches
    assert replicas.world.truth(doc.doc_id)["version"] == 2


def test_edit_changes_last_modified_on_sichuan(replicas: ReplicaServer) -> None:
    doc = a_reply(replicas, "sichuan")
    url = doc_url(replicas, doc.doc_id)
    with client() as c:
        before = c.get(url)
        assert c.get(url, headers={"If-Modified-Since": before.headers["last-modified"]}).status_code == 304
        admin(
            replicas, "POST", f"/docs/{doc.doc_id}/edit", {"paragraph": 0, "text": "王小明委员：（已更正）"}
        )
        after = c.get(url, headers={"If-Modified-Since": before.headers["last-modified"]})
    assert after.status_code == 200
    assert "etag" not in after.headers
    assert after.headers["last-modified"] != before.headers["last-modified"]
    assert "王小明委员：（已更正）" in decode(after)


# -- metadata --------------------------------------------------------------------------------------


def test_validity_change_on_xiamen_grid(replicas: ReplicaServer) -> None:
    doc = a_reply(replicas, "fujian_xiamen")
    url = doc_url(replicas, doc.doc_id)
    with client() as c:
        before = c.get(url)
        assert xiamen_grid(before.text)["有效性"] == "有效"
        replicas.world.set_metadata(doc.doc_id, validity="失效")
        after = c.get(url)
    assert xiamen_grid(after.text)["有效性"] == "失效"
    assert after.headers["etag"] != before.headers["etag"]
    assert replicas.world.truth(doc.doc_id)["validity"] == "失效"


def test_validity_change_as_gkmlpt_is_expired_via_admin(replicas: ReplicaServer) -> None:
    doc = a_reply(replicas, "guangdong_zhongshan")
    assert gkmlpt_article(replicas, doc.doc_id)["is_expired"] == 0  # type: ignore[index]
    truth = admin(replicas, "POST", f"/docs/{doc.doc_id}/metadata", {"validity": "失效"}).json()
    assert truth["validity"] == "失效"
    assert gkmlpt_article(replicas, doc.doc_id)["is_expired"] == 1  # type: ignore[index]
    with client() as c:
        markup = c.get(doc_url(replicas, doc.doc_id, "gkmlpt")).text
    assert json.loads(DETAIL.search(markup).group(1))["is_expired"] == 1  # type: ignore[union-attr]


def test_title_tag_change_and_bad_field(replicas: ReplicaServer) -> None:
    doc = a_reply(replicas, "fujian_xiamen")
    replicas.world.set_metadata(doc.doc_id, title_tag="建议提案")
    with client() as c:
        markup = c.get(doc_url(replicas, doc.doc_id)).text
        assert f"<title>【建议提案】{doc.title}</title>" in markup
        bad = c.post(replicas.admin_url + f"/docs/{doc.doc_id}/metadata", json={"body_text": "x"})
    assert bad.status_code == 400
    with pytest.raises(ValueError, match="cannot set"):
        replicas.world.set_metadata(doc.doc_id, deputies=["某某"])


# -- withdraw / restore ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("portal_id", "status"),
    [
        ("fujian_xiamen", 404),
        ("fujian_ningde", 200),
        ("guangdong_zhongshan", 404),
        ("sichuan", 200),
        ("nhsa", 404),
    ],
)
def test_withdraw_delists_and_answers_404_or_soft_404(
    replicas: ReplicaServer, portal_id: str, status: int
) -> None:
    world = replicas.world
    column = world.site(portal_id).bureau.columns[0].key
    doc = world.publish(portal_id)  # on top of page 1, so "delisted" is visible there
    path = listed_path(replicas, doc)
    assert first_listed(replicas, portal_id, column) == path
    world.withdraw(doc.doc_id)
    assert first_listed(replicas, portal_id, column) != path
    with client() as c:
        for url in world.urls(doc.doc_id).values():
            resp = c.get(replicas.urls[portal_id] + url)
            assert resp.status_code == status
            if status == 200:  # soft 404: a page saying the page does not exist
                assert "页面不存在" in decode(resp)
                assert doc.title not in decode(resp)
    assert world.truth(doc.doc_id)["status"] == "withdrawn"
    assert doc.doc_id not in {d.doc_id for d in world.docs(portal_id)}
    world.restore(doc.doc_id)
    assert first_listed(replicas, portal_id, column) == path
    with client() as c:
        assert doc.title in decode(c.get(doc_url(replicas, doc.doc_id)))


def test_withdraw_via_admin_with_mode(replicas: ReplicaServer) -> None:
    doc = a_reply(replicas, "fujian_xiamen")
    truth = admin(replicas, "POST", f"/docs/{doc.doc_id}/withdraw", {"mode": "soft404"}).json()
    assert truth["status"] == "withdrawn"
    with client() as c:
        resp = c.get(doc_url(replicas, doc.doc_id))
        assert resp.status_code == 200
        assert "页面不存在" in resp.text
        admin(replicas, "POST", f"/docs/{doc.doc_id}/restore")
        assert c.get(doc_url(replicas, doc.doc_id)).status_code == 200
        bad = c.post(replicas.admin_url + f"/docs/{doc.doc_id}/withdraw", json={"mode": "gone"})
        assert bad.status_code == 400
        assert c.post(replicas.admin_url + f"/docs/{doc.doc_id}/explode", json={}).status_code == 404


# -- repost ----------------------------------------------------------------------------------------


def test_repost_to_another_portal_keeps_identity(replicas: ReplicaServer) -> None:
    world = replicas.world
    src = a_reply(replicas, "fujian_xiamen")
    copy = world.repost(src.doc_id, "sichuan")
    assert copy.doc_id != src.doc_id
    assert copy.portal_id == "sichuan"
    t_src, t_copy = world.truth(src.doc_id), world.truth(copy.doc_id)
    assert t_copy["identity"] == t_src["identity"]
    for key in ("title", "body_text", "index_no", "doc_no_raw", "deputies", "outline"):
        assert t_copy[key] == t_src[key]
    assert t_copy["url_path"] != t_src["url_path"]
    with client() as c:
        src_text = visible_text(decode(c.get(doc_url(replicas, src.doc_id))))
        copy_text = visible_text(decode(c.get(doc_url(replicas, copy.doc_id))))
    for text in (src_text, copy_text):
        assert src.display_title in text
        assert_in_order(text, [b.text for b in src.blocks])
    assert first_listed(replicas, "sichuan", "jyta") == listed_path(replicas, copy)


def test_repost_same_portal_via_admin(replicas: ReplicaServer) -> None:
    src = a_reply(replicas, "nhsa")
    copy = admin(replicas, "POST", f"/docs/{src.doc_id}/repost", {}).json()
    assert copy["identity"] == replicas.world.truth(src.doc_id)["identity"]
    assert copy["portal_id"] == "nhsa"
    assert copy["urls"]["main"] != doc_url(replicas, src.doc_id)
    with client() as c:
        assert_in_order(visible_text(c.get(copy["urls"]["main"]).text), [b.text for b in src.blocks])


# -- attachments -----------------------------------------------------------------------------------


def test_add_and_replace_attachment_on_trs(replicas: ReplicaServer) -> None:
    world = replicas.world
    doc = a_reply(replicas, "fujian_xiamen")
    assert doc.attachments == []
    world.add_attachment(doc.doc_id, label="补充材料")
    url = doc_url(replicas, doc.doc_id)
    with client() as c:
        markup = c.get(url).text
        links = re.findall(r'<a href="\./(P0\d{8}\d{12}\.pdf)">(附件1：补充材料\.pdf)</a>', markup)
        assert len(links) == 1
        first_url = url.rsplit("/", 1)[0] + "/" + links[0][0]
        first = c.get(first_url)
        assert first.status_code == 200
        assert first.headers["content-type"] == "application/pdf"
        assert f"document {doc.doc_id}" in pdf_text(first.content)
        world.replace_attachment(doc.doc_id, 0)
        markup = c.get(url).text
        new_name = re.findall(r'<a href="\./(P0\d+\.pdf)">', markup)[0]
        second = c.get(url.rsplit("/", 1)[0] + "/" + new_name)
        assert new_name != links[0][0]
        assert second.content != first.content
        assert "revision" in pdf_text(second.content)
        assert c.get(first_url).status_code == 404  # the old file is gone
    truth = world.truth(doc.doc_id)
    assert truth["attachments"][0]["name"] == "附件1：补充材料.pdf"
    assert truth["attachments"][0]["sha256"] == hashlib.sha256(second.content).hexdigest()


def test_zhongshan_attachment_via_admin(replicas: ReplicaServer) -> None:
    doc = a_reply(replicas, "guangdong_zhongshan")
    truth = admin(replicas, "POST", f"/docs/{doc.doc_id}/add-attachment").json()
    assert len(truth["attachments"]) == 1
    with client() as c:
        markup = c.get(truth["urls"]["nfcms"]).text
        href = re.search(
            r'class="nfw-cms-attachment" href="(/ybj/attachment/\d+/\d+/\d+/\d+\.pdf)"', markup
        ).group(1)  # type: ignore[union-attr]
        first = c.get(replicas.urls["guangdong_zhongshan"] + href).content
        assert PdfReader(io.BytesIO(first)).pages
        art = gkmlpt_article(replicas, doc.doc_id)
        assert art["attachment"][0]["url"].endswith(href)  # type: ignore[index]
        admin(replicas, "POST", f"/docs/{doc.doc_id}/replace-attachment", {"index": 0})
        href2 = re.search(
            r'class="nfw-cms-attachment" href="([^"]+)"', c.get(truth["urls"]["nfcms"]).text
        ).group(1)  # type: ignore[union-attr]
        second = c.get(replicas.urls["guangdong_zhongshan"] + href2).content
    assert href2 != href
    assert second != first
    assert "revision 3" in pdf_text(second)
    with client() as c:
        bad = c.post(
            replicas.admin_url + f"/docs/{a_reply(replicas, 'sichuan').doc_id}/replace-attachment", json={}
        )
    assert bad.status_code == 400  # nothing to replace


def test_hanweb_downfile_redirects_to_attach(replicas: ReplicaServer) -> None:
    doc = a_reply(replicas, "nhsa")
    replicas.world.add_attachment(doc.doc_id)
    base = replicas.urls["nhsa"]
    with client() as c:
        markup = c.get(doc_url(replicas, doc.doc_id)).text
        zoom = lxml.html.fromstring(markup).xpath("//div[@id='zoom']//a/@href")
        down = [h for h in zoom if h.startswith("/module/download/downfile.jsp?classid=0&filename=")]
        assert len(down) == 1
        hop = c.get(base + down[0])
        assert hop.status_code == 302
        assert re.fullmatch(r"/attach/0/[0-9a-f]{32}\.pdf", hop.headers["location"])
        final = c.get(base + down[0], follow_redirects=True)
        assert final.status_code == 200
        assert str(final.url).endswith(hop.headers["location"])
        assert "revision" in pdf_text(final.content)
        missing = c.get(base + "/module/download/downfile.jsp?classid=0&filename=" + "0" * 32 + ".pdf")
        assert missing.status_code == 404


def test_generated_attachments_are_valid_pdfs(make_replicas: Callable[..., ReplicaServer]) -> None:
    server = make_replicas(docs=200, seed=11)
    with_files = [d for d in server.world.docs() if d.attachments]
    assert {d.portal_id for d in with_files} >= {"fujian_xiamen", "sichuan", "nhsa"}
    with client(follow_redirects=True) as c:
        for doc in with_files[:6]:
            site = server.world.site(doc.portal_id)
            for att in doc.attachments:
                path = site.attachment_path(doc, att)
                data = c.get(server.urls[doc.portal_id] + path).content
                assert data == att.data
                assert f"of document {doc.doc_id}" in pdf_text(data)
