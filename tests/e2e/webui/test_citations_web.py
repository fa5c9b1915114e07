"""The document page shows citation links both ways and a policy's lineage graph (server-rendered SVG):
in process through Datasette's client, and in Debian's headless Chromium against ``yibao serve``."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage import open_db, record, start_run
from tests.e2e.webui.test_browser_ui import ARTIFACTS, yibao_serve
from tests.storage.factories import LATER, NOW
from tests.storage.test_citations import OLD_TITLE, citing_reply, doc_id, new_policy, old_policy
from webui.app import make_datasette, prepare_archive

HOSTILE_QUOTE = "<script>alert('q')</script>"
NEWEST_URL = "https://xm.example.gov.cn/zcwj/newest.html"


@dataclass(frozen=True)
class Linked:
    path: Path
    old: int
    reply: int
    new: int
    newest: int


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> Linked:
    path = tmp_path_factory.mktemp("citations") / "archive.db"
    db = open_db(path)
    run = start_run(db, "fujian_xiamen", now=NOW)
    record(db, old_policy(), run_id=run, now=NOW)
    record(db, citing_reply(f"根据《{OLD_TITLE}》（厦医保规〔2019〕2号）{HOSTILE_QUOTE}办理。"), run_id=run, now=NOW)
    record(db, new_policy(), run_id=run, now=NOW)
    newest = new_policy(
        "本办法自2026年1月1日起施行。《厦门市医疗保障局关于门诊特殊病种管理的通知》（厦医保规〔2025〕1号）同时废止。",
        NEWEST_URL, title="厦门市医疗保障局门诊特殊病种管理办法", doc_no="厦医保规〔2025〕8号",
        doc_no_raw="厦医保规〔2025〕8号", index_no="XM-2025-0008", published_on="2025-11-20",
    )  # fmt: skip
    record(db, newest, run_id=run, now=LATER)
    ids = Linked(path, doc_id(db, old_policy().url), doc_id(db, citing_reply("").url), doc_id(db, new_policy().url),
                 doc_id(db, NEWEST_URL))  # fmt: skip
    db.close()
    prepare_archive(path)
    return ids


def page_of(linked: Linked, document_id: int) -> str:
    ds = make_datasette(linked.path)
    response = asyncio.run(ds.client.get(f"/archive/documents/{document_id}"))
    assert response.status_code == 200
    return response.text


def section(html: str, key: str) -> list[int]:
    match = re.search(rf'<ul class="yibao-links" data-section="{key}">(.*?)</ul>', html, re.DOTALL)
    return [int(x) for x in re.findall(r'href="/archive/documents/(\d+)"', match.group(1))] if match else []


def test_the_document_page_links_both_ways_and_draws_the_lineage(linked: Linked) -> None:
    html = page_of(linked, linked.new)
    assert section(html, "cites") == [linked.old]
    assert section(html, "replaces") == [linked.old]
    assert section(html, "replaced_by") == [linked.newest]
    assert section(html, "cited_by") == [linked.newest]
    svg = re.search(r'<svg[^>]*class="yibao-lineage-graph".*?</svg>', html, re.DOTALL)
    assert svg is not None
    nodes = [int(x) for x in re.findall(r'class="yibao-lineage-node" data-id="(\d+)"', svg.group(0))]
    assert nodes == [linked.old, linked.new, linked.newest]  # the whole chain, oldest first
    edges = re.findall(r'data-old="(\d+)" data-new="(\d+)"', svg.group(0))
    assert sorted(edges) == sorted([(str(linked.old), str(linked.new)), (str(linked.new), str(linked.newest))])

    old = page_of(linked, linked.old)
    assert sorted(section(old, "cited_by")) == sorted([linked.reply, linked.new])
    assert section(old, "replaced_by") == [linked.new]
    assert "已被替代 superseded" in old

    reply = page_of(linked, linked.reply)
    assert section(reply, "cites") == [linked.old]
    assert "yibao-lineage-graph" not in reply  # a reply has no lineage
    assert "<script>alert('q')" not in reply  # the quote is escaped
    assert "&lt;script&gt;alert(" in reply


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def served(linked: Linked) -> Iterator[str]:
    with yibao_serve(linked.path) as url:
        yield url


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")
def test_the_lineage_graph_is_readable_in_chromium(served: str, linked: Linked) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(base_url=served, viewport={"width": 1280, "height": 900}, locale="zh-CN")
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            page.goto(f"/archive/documents/{linked.new}")
            graph = page.locator("svg.yibao-lineage-graph")
            box = graph.bounding_box()
            assert box is not None
            assert box["width"] > 500
            assert box["height"] > 150
            nodes = page.locator("a.yibao-lineage-node")
            assert nodes.count() == 3
            texts = [(t or "").strip() for t in page.locator("svg.yibao-lineage-graph text").all_text_contents()]
            assert any(t.startswith("厦门市医疗保障局门诊特殊病种管理办法") for t in texts)
            assert texts.count("废止 abolishes") == 2
            page.locator("svg.yibao-lineage-graph").screenshot(path=str(ARTIFACTS / "webui-lineage.png"))
            nodes.first.click()  # the oldest: the page of the abolished policy
            page.wait_for_url(f"**/archive/documents/{linked.old}")
            assert page.locator('ul[data-section="cited_by"] li').count() == 2
            page.goto(f"/archive/documents/{linked.reply}")
            assert page.locator('ul[data-section="cites"] a').first.inner_text() == OLD_TITLE
            assert dialogs == []  # the hostile quote ran nothing
        finally:
            browser.close()
