"""The attachment fetch policy's decisions (``spiders.attachments``), without a crawl: what is taken from the
archive, what is fetched, what a cap leaves, what an answer means. (Crawled for real:
tests/e2e/speed/test_crawl_policies.py.)"""

from __future__ import annotations

import hashlib

from core.records import Attachment
from replicas.pdf import make_pdf
from spiders.attachments import FetchedAttachment, answered, conditional_headers, plan

A, B, C, D = (f"https://ybj.example.gov.cn/att/{name}.pdf" for name in "abcd")
STORED = {
    A: {"url": A, "name": "a", "sha256": "ab" * 32, "size": 10, "text": "x", "missing": False, "etag": '"e1"',
        "last_modified": None},
    B: {"url": B, "name": "b", "sha256": None, "size": None, "text": None, "missing": True},
    C: {"url": C, "name": "c", "sha256": None, "size": None, "text": None, "missing": False},  # unfetched (a cap)
}  # fmt: skip


def links(*urls: str) -> list[Attachment]:
    return [Attachment(f"附件{i}", url) for i, url in enumerate(urls, 1)]


def everywhere(url: str) -> bool:
    return True


def test_known_links_are_taken_from_the_archive_and_only_the_others_fetched() -> None:
    p = plan(links(A, B, C, D), STORED, {}, allowed=everywhere, full=False, per_page=5)
    assert p.todo == [2, 3]  # the unfetched one and the new one
    assert p.reused == 2
    assert p.attachments[0] == FetchedAttachment("附件1", A, "ab" * 32, 10, "x", etag='"e1"')  # the page's name now
    assert p.attachments[1].missing is True  # type: ignore[attr-defined]
    assert p.attachments[1].sha256 is None


def test_a_full_crawl_rechecks_known_links_conditionally() -> None:
    p = plan(links(A, B), STORED, {}, allowed=everywhere, full=True, per_page=5)
    assert p.todo == [0, 1]
    assert conditional_headers(p.attachments[0]) == {"If-None-Match": '"e1"'}
    assert conditional_headers(p.attachments[1]) == {}  # a missing file has no validators


def test_caps_and_hosts() -> None:
    p = plan(links(A, B, C, D), {}, {}, allowed=lambda url: url != B, full=False, per_page=2)
    assert p.todo == [0, 2]  # B is on another host: listed, never fetched
    assert p.over_cap == 1
    assert [a.sha256 for a in p.attachments] == [None] * 4


def test_an_answer_of_this_run_serves_every_page_linking_the_file() -> None:
    fetched = {D: FetchedAttachment("d", D, "cd" * 32, 5)}
    p = plan(links(D), {}, fetched, allowed=everywhere, full=False, per_page=5)
    assert p.todo == []
    assert p.attachments[0].sha256 == "cd" * 32


def test_what_an_answer_means() -> None:
    data = make_pdf(["Hello attachment"])
    got = answered(Attachment("a", A), 200, data, '"e2"', "Mon, 02 Mar 2026 08:00:00 GMT")
    assert got.sha256 == hashlib.sha256(data).hexdigest()
    assert got.size == len(data)
    assert got.text is not None
    assert "Hello attachment" in got.text
    assert (got.etag, got.missing) == ('"e2"', False)
    known = FetchedAttachment("a", A, "ab" * 32, 10, "x", etag='"e1"')
    assert answered(known, 304, b"", None, None) == known  # unchanged: as stored
    gone = answered(known, 404, b"<html>404</html>", None, None)
    assert (gone.missing, gone.sha256, gone.size) == (True, None, None)
