"""Hostile input answered cleanly (issue 13): a corpus of hostile detail pages crawled end to end (the reduced
form of ``benchmarks/hostile_probe.py``), control characters in stored text and in the Atom feed, and search
queries nested past any sense."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from benchmarks.hostile_probe import CONTROLS, crawl_measured, hostile_server, inspect, write_config
from core.health import FAILED, INTERRUPTED, OK, moved_to, settle
from core.normalize import build_record
from core.normalize.text import html_to_paragraphs, normalize_ws, strip_controls
from core.records import RawPage
from replicas.hostile import KEPT, KINDS, REFUSED
from spiders import extract
from storage import open_db, record
from storage.feeds import build_feed
from storage.search import MAX_DEPTH, QueryError, build_query
from tests.storage.factories import NOW, policy

PORTALS = ("fujian_xiamen", "sichuan")
# the reason each refused kind is recorded with (yibao/errors/<reason>)
REASONS = {"empty": "empty_page", "binary": "binary", "png": "binary", "deep": "too_deep", "mojibake": "mojibake",
           "replacement": "mojibake", "huge_title": "title_too_long", "blank": "no_content",
           "offsite": "offsite_redirect", "redirect_loop": "redirect_loop", "huge_body": "too_large",
           "gzip_bomb": "too_large"}  # fmt: skip
ESC_BEL = "关于\x1b[31m医保\x07的通知"


# --- the corpus, crawled ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory: pytest.TempPathFactory):
    """Two replica portals serving every hostile kind round robin (about 50 detail pages), crawled once."""
    tmp = tmp_path_factory.mktemp("hostile")
    server = hostile_server(docs=120, seed=13, portals=PORTALS)
    try:
        crawl = crawl_measured(write_config(tmp, server, PORTALS), PORTALS, timeout=240)
        yield tmp, crawl, inspect(tmp / "archive.db", server, PORTALS)
    finally:
        server.stop()


def test_the_corpus_covers_every_kind(hostile_crawl) -> None:
    _, _, found = hostile_crawl
    assert set(found.pages) == set(KINDS), found.pages
    assert sum(found.pages.values()) >= 40


def test_hostile_pages_never_crash_or_hang_the_crawl(hostile_crawl) -> None:
    _, crawl, found = hostile_crawl
    assert not crawl.hung
    assert crawl.returncode in (0, 1), crawl.stderr[-3000:]
    assert "Traceback" not in crawl.stderr, crawl.stderr[-3000:]
    assert not found.exceptions  # no callback raised on any page
    assert crawl.summary is not None
    assert set(crawl.summary) == set(PORTALS)


def test_every_bad_page_is_an_error_with_its_reason_never_a_document(hostile_crawl) -> None:
    _, crawl, found = hostile_crawl
    assert found.garbage == []
    assert not set(found.documents) & set(REFUSED), found.documents
    expected: dict[str, int] = {}
    for kind in REFUSED:
        expected[REASONS[kind]] = expected.get(REASONS[kind], 0) + found.pages[kind]
    for reason, pages in expected.items():
        assert found.errors[reason] == pages, (reason, found.errors, found.pages)
    assert crawl.summary is not None
    assert sum(s["errors"] for s in crawl.summary.values()) == sum(found.errors.values())


def test_pages_with_dirty_text_are_kept_clean(hostile_crawl) -> None:
    tmp, _, found = hostile_crawl
    assert set(KEPT) <= set(found.documents), found.documents  # stored, as documents should be
    with open_db(tmp / "archive.db") as db:
        titles = [row[0] for row in db.execute("SELECT title FROM documents")]
        bodies = [row[0] for row in db.execute("SELECT body_text FROM versions")]
    assert max(map(len, titles)) <= 501
    assert any(t.endswith("…") for t in titles)  # an overlong title was cut, not refused
    assert not [c for c in CONTROLS if any(c in text for text in titles + bodies)]
    assert not any("[31m" in t for t in titles)  # the whole terminal escape went, not only its ESC


def test_the_feed_of_the_hostile_archive_is_valid_xml(hostile_crawl, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    tmp, _, found = hostile_crawl
    out = tmp / "feed.xml"
    assert main(["feed", "--db", str(tmp / "archive.db"), "-o", str(out)]) == 0
    parsed = feedparser.parse(out.read_bytes())
    assert parsed.bozo == 0, parsed.bozo_exception
    assert len(parsed.entries) == sum(found.documents.values())  # one "new" entry per document, ESC/BEL ones too


def test_peak_memory_on_hostile_pages_is_bounded(hostile_crawl) -> None:
    _, crawl, _ = hostile_crawl
    assert 0 < crawl.peak_rss_mib < 300, crawl.peak_rss_mib


def test_peak_memory_on_oversized_pages_is_bounded(tmp_path: Path) -> None:
    """Gzip bombs (1 GB of zeros in 1 MB) and 20 MB pages, a third of all pages: the crawl stays under 300 MB
    (their decompressed buffers used to wait in reference cycles for a full garbage collection: 4 GB)."""
    server = hostile_server(docs=120, seed=13, portals=PORTALS, kinds=("ok", "gzip_bomb", "huge_body"))
    try:
        crawl = crawl_measured(write_config(tmp_path, server, PORTALS), PORTALS, timeout=240)
        found = inspect(tmp_path / "archive.db", server, PORTALS)
    finally:
        server.stop()
    assert found.pages["gzip_bomb"] + found.pages["huge_body"] >= 20
    assert found.errors["too_large"] == found.pages["gzip_bomb"] + found.pages["huge_body"]
    assert 0 < crawl.peak_rss_mib < 300, crawl.peak_rss_mib


# --- control characters ------------------------------------------------------------------------------------


@pytest.mark.parametrize("control", ["\x0b", "\x0c", "\x01", "\x1b[31m", "\x07", "\x00", "\x7f", "\x9b", "\u202e",
                                     "\u2066", "\x85"])  # fmt: skip
def test_control_characters_never_make_normalization_raise(control: str) -> None:
    page = RawPage(portal_id="p", column="c", column_kind="policy", url="http://x/t20250101_1.htm", status=200,
                   html="", encoding="utf-8", fetched_at="2025-01-01T00:00:00", final_url="http://x/t20250101_1.htm",
                   meta_table={"发文字号": f"厦医保〔2025〕{control}1号"}, meta_tags={}, listing={},
                   body_html=f"<div><p>各有关单位：{control}现将有关事项通知如下。</p><p>二、{control}附则</p></div>",
                   title=f"关于{control}做好医保工作的通知", attachments=[])  # fmt: skip
    rec = build_record(page, bureau="厦门市医疗保障局", region_code="350200")
    text = json.dumps(dataclasses.asdict(rec), ensure_ascii=False, default=str)
    assert not [c for c in CONTROLS if c in text.replace("\\n", "")]
    assert "现将有关事项通知如下" in rec.body_text
    assert rec.title.replace(" ", "") == "关于做好医保工作的通知"  # VT, FF, NEL separate words: a space


def test_strip_controls_keeps_text_and_separates_words() -> None:
    assert strip_controls("医保\t门诊\n共济") == "医保\t门诊\n共济"
    assert strip_controls("a\x0bb\x0cc") == "a b c"  # separators become spaces
    assert strip_controls(ESC_BEL) == "关于医保的通知"
    assert strip_controls("x\x1b]0;title\x07y") == "xy"  # an OSC sequence goes whole
    assert normalize_ws(" 关于\u202e医保 ") == "关于医保"
    assert html_to_paragraphs("<p>一\x01二</p><p>三\x0b四</p>") == ["一二", "三 四"]


def test_the_feed_survives_control_characters_already_stored(tmp_path: Path) -> None:
    """An archive written before normalization stripped them: the feed clears them itself (core.feed)."""
    db = open_db(tmp_path / "a.db")
    record(db, policy(title=ESC_BEL, body_text="正文\x0b第二句\x01。"), run_id=None, now=NOW)
    xml = build_feed(db)
    parsed = feedparser.parse(xml)
    assert parsed.bozo == 0, parsed.bozo_exception
    assert parsed.entries[0].title == "[新发布] 关于医保的通知"


# --- titles ---------------------------------------------------------------------------------------------


def test_titles_are_bounded_at_a_boundary() -> None:
    clause = "关于进一步做好城乡居民基本医疗保障工作的通知，"
    cut = extract.bound_title(clause * 40)
    assert cut is not None
    assert len(cut) <= extract.TITLE_MAX
    assert cut.endswith("通知…")  # after the last clause that fits, not mid-word
    assert extract.bound_title("无标点" * 300) == ("无标点" * 300)[: extract.TITLE_MAX - 1] + "…"
    assert extract.bound_title("x" * 100_000) is None  # absurd: not a title at all
    assert extract.bound_title("  关于\x07医保  的通知 ") == "关于医保 的通知"


def test_implausible_bodies_are_refused() -> None:
    for body, reason in ((b"", "empty_page"), (b"  \r\n", "empty_page"), (b"\x89PNG\r\n\x1a\n....", "binary"),
                         (bytes(range(256)) * 8, "binary"), (b"<html>\x00\x01\x02</html>", "binary")):  # fmt: skip
        with pytest.raises(extract.ImplausiblePage) as caught:
            extract.check_body(body)
        assert caught.value.reason == reason
    extract.check_body("<html><body><p>正文\x0b</p></body></html>".encode())  # a stray VT is no binary
    extract.check_body("\ufeff<html></html>".encode("utf-16"))  # UTF-16 with its BOM
    with pytest.raises(extract.ImplausiblePage):
        extract.check_text("标题", "\ufffd" * 30 + "正文" * 100)
    with pytest.raises(extract.ImplausiblePage):
        extract.check_text("锟斤拷锟斤拷", "锟斤拷" * 10 + "正文" * 50)
    extract.check_text("标题", "正文" * 100 + "\ufffd" * 3)  # a few bad bytes are not soup


# --- health: the finish reasons -----------------------------------------------------------------------------


def test_settle_names_why_a_run_failed() -> None:
    moved = {"yibao/redirected_offsite/new.example:8080": 9, "yibao/redirected_offsite/other.example": 1}
    assert moved_to(moved) == "new.example:8080"
    assert settle(moved, FAILED, "finished") == (FAILED, "moved to new.example:8080")
    assert moved_to({**moved, "yibao/documents": 1}) is None  # some pages still answer here: not moved
    assert settle({}, FAILED, "shutdown") == (FAILED, INTERRUPTED)
    assert settle({}, FAILED, "unreachable") == (FAILED, "unreachable")
    assert settle({}, OK, "finished") == (OK, "finished")


# --- search: nesting ---------------------------------------------------------------------------------------

DEEP_QUERIES = ["(" * 400 + "医保" + ")" * 400, "NOT " * 2000 + "医保", "医保 " + "(" * 5000]


@pytest.mark.parametrize("query", DEEP_QUERIES, ids=["parentheses", "nots", "unclosed"])
def test_deeply_nested_queries_are_a_query_error(query: str) -> None:
    with pytest.raises(QueryError, match="nests too deeply"):
        build_query(query)


def test_nesting_up_to_the_bound_still_works() -> None:
    depth = MAX_DEPTH - 1
    assert build_query("(" * depth + "医保" + ")" * depth).terms == ["医保"]
    assert build_query("NOT NOT 医保").terms == ["医保"]


def test_deep_query_on_the_command_line_is_one_line_exit_2(tmp_path: Path) -> None:
    open_db(tmp_path / "a.db").close()
    done = subprocess.run([sys.executable, "-m", "cli.main", "search", "--db", str(tmp_path / "a.db"), DEEP_QUERIES[0]],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr[-2000:]
    assert "nests too deeply" in done.stderr
    assert done.stdout == ""


def test_deep_query_in_the_web_ui_is_400(tmp_path: Path) -> None:
    from urllib.parse import quote

    from webui.app import make_datasette, prepare_archive

    path = tmp_path / "a.db"
    db = open_db(path)
    record(db, policy(), run_id=None, now=NOW)
    db.close()
    prepare_archive(path)
    ds = make_datasette(path)
    for url in (f"/-/search?q={quote(DEEP_QUERIES[0])}", f"/-/feeds/changes.atom?q={quote(DEEP_QUERIES[1])}",
                f"/archive/documents?_search={quote(DEEP_QUERIES[0])}"):  # fmt: skip
        # (the documents table's search box hands its query to the search page: a redirect, then the 400)
        response = asyncio.run(ds.client.get(url, follow_redirects=True))
        assert response.status_code == 400, (url, response.status_code)
        assert "nests too deeply" in response.text
        assert "Traceback" not in response.text
