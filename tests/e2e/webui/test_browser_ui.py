"""The web UI as a person uses it: Playwright driving Debian's headless Chromium (installed by
``make test``, never downloaded) against ``yibao serve`` over a real crawled archive. Screenshots are
kept in test-artifacts/ for people to look at."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from replicas.ports import free_port
from storage import open_db, search_ids
from tests.webui.conftest import HOSTILE

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make test installs it)")


@contextmanager
def yibao_serve(db_path: Path) -> Iterator[str]:
    """``yibao serve`` over ``db_path`` on a free port of 127.0.0.1, up (its home page answered); the URL."""
    port = free_port()
    cmd = [sys.executable, "-m", "cli.main", "serve", "--db", str(db_path), "--port", str(port)]
    log = db_path.with_name("serve.log")
    with log.open("w") as stderr:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(url + "/", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            proc.kill()
            pytest.fail(f"yibao serve did not come up: {log.read_text()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def base_url(archive) -> Iterator[str]:
    with yibao_serve(archive.path) as url:
        yield url


@pytest.fixture(scope="module")
def page(base_url):
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.dialogs = []  # a script that ran would open alert('x')
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        yield page
        browser.close()


def shot(page, name: str) -> None:
    path = ARTIFACTS / f"webui-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 20_000  # text and colour, not a blank page


def test_search_open_a_document_and_see_its_diff(page, archive):
    (title,) = archive.query("SELECT title FROM documents WHERE id = ?", archive.edited_id)[0]
    page.goto("/")
    page.get_by_role("searchbox").fill(f'"{title}"')
    page.get_by_role("button", name="检索").click()
    page.wait_for_url("**/-/search?**")
    first = page.locator(".yibao-hit h3 a").first
    assert first.inner_text() == title
    assert page.locator(".yibao-hit mark").count() >= 1
    shot(page, "search")
    first.click()
    page.wait_for_url(f"**/archive/documents/{archive.edited_id}")
    assert page.locator("h1.yibao-doc-title").inner_text() == title
    inserted = page.locator('.yibao-diff span[style*="#e6ffec"]').first
    inserted.scroll_into_view_if_needed()
    assert inserted.is_visible()
    assert inserted.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(230, 255, 236)"
    shot(page, "document-diff")


def test_chinese_term_search_with_a_filter(page, archive):
    page.goto("/-/search")
    page.get_by_role("searchbox").fill("医保")
    page.locator("select[name=region]").select_option(label="四川省")
    page.get_by_role("button", name="检索").click()
    ids = [int(x) for x in page.locator(".yibao-hit").evaluate_all("els => els.map(e => e.dataset.id)")]
    sichuan = {i for (i,) in archive.query("SELECT id FROM documents WHERE region_code LIKE '51%'")}
    assert ids
    assert set(ids) <= sichuan


def test_the_chart_draws_bars(page):
    page.goto("/")
    page.get_by_role("link", name="统计 Charts").first.click()
    page.wait_for_url("**/-/charts")
    bars = page.locator("#publications rect[data-count]")
    assert bars.count() > 0
    box = bars.first.bounding_box()
    assert box is not None
    assert box["height"] > 0
    assert box["width"] > 0
    assert page.locator("#changes rect[data-count]").count() > 0
    shot(page, "charts")


def test_a_crawled_script_title_renders_as_text(page, archive):
    page.goto("/-/search?q=门诊共济测试")
    assert page.locator(".yibao-hit h3 a").first.inner_text() == HOSTILE
    page.locator(".yibao-hit h3 a").first.click()
    page.wait_for_url(f"**/archive/documents/{archive.hostile_id}")
    assert page.locator("h1.yibao-doc-title").inner_text() == HOSTILE
    assert page.title().startswith(HOSTILE)
    page.goto(f"/archive/documents?_search={HOSTILE[-8:]}")  # the table's search box: answered by the search page
    page.wait_for_url("**/-/search?**")
    assert page.locator(".yibao-hit h3 a").first.inner_text() == HOSTILE
    page.goto(f"/archive/documents?_search={HOSTILE[-8:]}&_table=1")  # kept on the table when asked
    assert HOSTILE in page.locator("table.rows-and-columns").inner_text()
    assert page.dialogs == []  # no script ran on any page
    shot(page, "script-title")


def test_browse_the_documents_table_by_facets(page, archive):
    """From a search to the documents table with its facets; a facet value narrows the rows."""
    page.goto("/-/search?q=答复&kind=suggestion_reply")
    page.locator("a.yibao-table-link").click()
    page.wait_for_url("**/archive/documents?**")
    facet = page.locator(".facet-info[data-column=province] li a").first
    name = facet.inner_text().strip()
    facet.click()
    page.wait_for_url("**province=**")
    rows = page.locator("table.rows-and-columns tbody tr")
    matching = search_ids(open_db(archive.path), "答复")
    in_province = {
        i for (i,) in archive.query("SELECT id FROM documents WHERE province = ? AND kind = 'suggestion_reply'", name)
    }
    assert in_province & matching, name
    assert rows.count() == len(in_province & matching)
    assert page.locator(".facet-info[data-column=kind]").count() == 1  # the other facets are shown too
    shot(page, "documents-facets")
