"""The polite session of ``discover``/``check``: robots.txt, one site only, a page budget, spacing, caching."""

from __future__ import annotations

import itertools

import pytest

from crawler.discover.fetch import HttpRequest, PoliteSession, blocked_reason, decode_html, httpx_fetch
from tests.crawler.helpers import local_site

UA = "YibaoWatch-test/1.0 (+discover tests)"


@pytest.fixture
def site():
    with local_site() as s:
        s.page("/robots.txt", "User-agent: *\nDisallow: /private/\n", Content_Type="text/plain")
        for path in ("/", "/a.html", "/b.html", "/c.html", "/private/x.html"):
            s.page(path, f"<html><body>{path}</body></html>")
        yield s


def session(url: str, **kw) -> PoliteSession:
    kw.setdefault("delay", 0)
    return PoliteSession(url, user_agent=UA, **kw)


def test_robots_txt_is_obeyed_and_fetched_once(site):
    s = session(site.url + "/")
    assert s.get(site.url + "/a.html").ok
    denied = s.get(site.url + "/private/x.html")
    assert denied.skipped
    assert "robots.txt" in denied.skipped
    assert denied.status is None
    assert s.get(site.url + "/b.html").ok
    assert site.paths() == ["/robots.txt", "/a.html", "/b.html"]
    assert {h.user_agent for h in site.hits} == {UA}


@pytest.mark.parametrize(("status", "allowed"), [(404, True), (403, True), (503, False)])
def test_robots_txt_unavailable_allows_unreachable_forbids(status, allowed):
    """RFC 9309: a 4xx robots.txt means no rules; a 5xx one means complete disallow."""
    with local_site() as site:
        site.page("/robots.txt", "nope", status=status)
        site.page("/a.html", "<html><body>a</body></html>")
        got = session(site.url + "/").get(site.url + "/a.html")
        assert got.ok is allowed
        assert site.paths() == (["/robots.txt", "/a.html"] if allowed else ["/robots.txt"])


def test_never_requests_another_site_not_even_by_redirect(site):
    with local_site() as other:
        other.page("/robots.txt", "User-agent: *\nDisallow:\n", Content_Type="text/plain")
        other.page("/x.html", "<html><body>elsewhere</body></html>")
        site.redirect("/go.html", other.url + "/x.html")
        s = session(site.url + "/")
        direct = s.get(other.url + "/x.html")
        assert direct.skipped
        assert "another site" in direct.skipped
        redirected = s.get(site.url + "/go.html")
        assert redirected.skipped
        assert "another site" in redirected.skipped
        assert other.hits == []
        assert site.paths() == ["/robots.txt", "/go.html"]


def test_page_budget_and_cache(site):
    s = session(site.url + "/", max_pages=2)
    assert s.get(site.url + "/a.html").ok
    assert s.get(site.url + "/a.html").ok  # served again from memory, no request
    assert s.get(site.url + "/b.html").ok
    over = s.get(site.url + "/c.html")
    assert over.skipped
    assert "budget of 2" in over.skipped
    assert site.paths() == ["/robots.txt", "/a.html", "/b.html"]
    assert s.pages == 2
    assert len(s.log) == 3


def test_requests_are_spaced_by_the_delay(site):
    s = session(site.url + "/", delay=0.25)
    for path in ("/a.html", "/b.html", "/c.html"):
        s.get(site.url + path)
    times = [h.at for h in site.hits]
    assert len(times) == 4
    assert all(b - a >= 0.24 for a, b in itertools.pairwise(times)), times


def test_injected_transport_sees_every_request(site):
    seen: list[HttpRequest] = []

    def counting(request: HttpRequest):
        seen.append(request)
        return httpx_fetch(request)

    s = session(site.url + "/", fetch=counting, timeout=5)
    s.get(site.url + "/a.html")
    assert [r.url for r in seen] == [site.url + "/robots.txt", site.url + "/a.html"]
    assert all(r.timeout == 5 and r.headers["User-Agent"] == UA for r in seen)


def test_decoding_and_blocked_pages():
    gbk = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312"></head>'
    assert "医保" in decode_html((gbk + "<body>医保</body></html>").encode("gbk"), "text/html")
    assert decode_html("医保".encode(), "text/html; charset=ISO-8859-1") == "医保"
    assert "412" in (blocked_reason(412, b"<script>$_ts={}</script>") or "")
    assert blocked_reason(200, b"<html><script>$_ts=window['$_ts']</script></html>")
    assert blocked_reason(200, b"<html><body>" + b"x" * 5000 + b"</body></html>") is None
