"""Fault modes: each switchable per portal (Python API or admin endpoint), each cleared again."""

from __future__ import annotations

import time

import httpx
import lxml.html
import pytest

from replicas.server import ReplicaServer
from replicas.sites.gkmlpt import SID
from tests.replicas.helpers import PORTALS, admin, article_paths, client, decode, doc_url


def column(server: ReplicaServer, portal_id: str) -> tuple[str, str]:
    site = server.world.site(portal_id)
    path = site.column_path(site.bureau.columns[0].key)
    return server.urls[portal_id] + path, path


def a_doc(server: ReplicaServer, portal_id: str) -> int:
    return next(d.doc_id for d in server.world.docs(portal_id) if not d.seed and d.kind.endswith("_reply"))


def assert_healthy(server: ReplicaServer, *portal_ids: str) -> None:
    """Column page 1 answers 200 with article links, a detail page answers 200 and is small."""
    with client() as c:
        for pid in portal_ids:
            url, path = column(server, pid)
            resp = c.get(url)
            assert resp.status_code == 200, pid
            assert article_paths(pid, path, decode(resp)), pid
            detail = c.get(doc_url(server, a_doc(server, pid)))
            assert detail.status_code == 200, pid
            assert len(detail.content) < 200_000


def others(portal_id: str) -> list[str]:
    return [p for p in PORTALS if p != portal_id]


def test_error_burst_then_recovery(replicas: ReplicaServer) -> None:
    url, _ = column(replicas, "fujian_xiamen")
    replicas.world.set_faults("fujian_xiamen", error_burst=3)
    with client() as c:
        statuses = [c.get(url).status_code for _ in range(5)]
    assert statuses == [503, 503, 503, 200, 200]
    replicas.world.set_faults("sichuan", error_burst=2, error_status=500)
    with client() as c:
        assert [c.get(column(replicas, "sichuan")[0]).status_code for _ in range(3)] == [500, 500, 200]
    assert_healthy(replicas, *PORTALS)


def test_error_burst_via_admin_only_under_path_prefix(replicas: ReplicaServer) -> None:
    admin(replicas, "POST", "/portals/fujian_ningde/faults", {"error_burst": 2, "path_prefix": "/zwgk/zcwj/"})
    base = replicas.urls["fujian_ningde"]
    with client() as c:
        assert c.get(base + "/zwgk/jytabl/").status_code == 200  # outside the prefix
        assert [c.get(base + "/zwgk/zcwj/").status_code for _ in range(3)] == [503, 503, 200]


def test_slow(replicas: ReplicaServer) -> None:
    url, _ = column(replicas, "nhsa")
    replicas.world.set_faults("nhsa", slow=0.5)
    with client() as c:
        started = time.monotonic()
        assert c.get(url).status_code == 200
        assert time.monotonic() - started >= 0.5
        started = time.monotonic()
        assert c.get(column(replicas, "sichuan")[0]).status_code == 200
        assert time.monotonic() - started < 0.4  # other portals answer at once
        with pytest.raises(httpx.ReadTimeout):
            c.get(url, timeout=0.1)
        replicas.world.clear_faults("nhsa")
        started = time.monotonic()
        c.get(url)
        assert time.monotonic() - started < 0.4


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_truncated_body(replicas: ReplicaServer, encoding: str) -> None:
    url = doc_url(replicas, a_doc(replicas, "guangdong_zhongshan"))
    replicas.world.set_faults("guangdong_zhongshan", truncate=True)
    with client() as c:
        with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|without sending complete"):
            c.get(url, headers={"Accept-Encoding": encoding})
        head = c.head(url)
        assert head.status_code == 200
    assert_healthy(replicas, *others("guangdong_zhongshan"))
    replicas.world.clear_faults("guangdong_zhongshan")
    assert_healthy(replicas, "guangdong_zhongshan")


def test_wrong_charset_header(replicas: ReplicaServer) -> None:
    doc_id = a_doc(replicas, "fujian_xiamen")
    title = replicas.world.doc(doc_id).title
    replicas.world.set_faults("fujian_xiamen", wrong_charset="iso-8859-1")
    replicas.world.set_faults("fujian_ningde", wrong_charset="utf-8")
    with client() as c:
        xm = c.get(doc_url(replicas, doc_id))
        assert xm.headers["content-type"] == "text/html; charset=iso-8859-1"
        assert title not in xm.text  # decoding by the header gives mojibake
        assert title in xm.content.decode("utf-8")  # the bytes are still UTF-8
        nd = c.get(doc_url(replicas, a_doc(replicas, "fujian_ningde")))
        assert nd.headers["content-type"] == "text/html; charset=utf-8"
        with pytest.raises(UnicodeDecodeError):
            nd.content.decode("utf-8")  # header says UTF-8, the page is GBK
        replicas.world.clear_faults()
        assert c.get(doc_url(replicas, doc_id)).headers["content-type"] == "text/html; charset=utf-8"
        assert (
            c.get(doc_url(replicas, a_doc(replicas, "fujian_ningde"))).headers["content-type"] == "text/html"
        )


def test_redirect_loop(replicas: ReplicaServer) -> None:
    url, path = column(replicas, "sichuan")
    replicas.world.set_faults("sichuan", redirect_loop=True)
    with client() as c:
        hop = c.get(url + "?x=1")
        assert hop.status_code == 302
        assert hop.headers["location"] == path + "?x=1"
        with pytest.raises(httpx.TooManyRedirects):
            c.get(url, follow_redirects=True)
    assert_healthy(replicas, *others("sichuan"))
    admin(replicas, "DELETE", "/portals/sichuan/faults")
    assert_healthy(replicas, "sichuan")


def test_challenge_412(replicas: ReplicaServer) -> None:
    replicas.world.set_faults("guangdong_zhongshan", challenge=True)
    base = replicas.urls["guangdong_zhongshan"]
    with client() as c:
        for path in ("/robots.txt", "/ybj/zwgk/zcwj/qtwj/index.html", f"/ybj/gkmlpt/api/all/0?sid={SID}"):
            resp = c.get(base + path)
            assert resp.status_code == 412
            assert "$_ts" in resp.text
            assert "<script" in resp.text
    assert_healthy(replicas, *others("guangdong_zhongshan"))
    replicas.world.clear_faults("guangdong_zhongshan")
    assert_healthy(replicas, "guangdong_zhongshan")


def test_ip_ban_after_burst(replicas: ReplicaServer) -> None:
    url, _ = column(replicas, "fujian_xiamen")
    ban = 1.0
    body = {"ban_after": 5, "ban_window": 10.0, "ban_seconds": ban}
    state = admin(replicas, "POST", "/portals/fujian_xiamen/faults", body).json()
    assert state["ban_after"] == 5
    with client() as c:
        assert [c.get(url).status_code for _ in range(5)] == [200] * 5
        first_403 = c.get(url)
        banned_at = time.monotonic()
        assert first_403.status_code == 403  # the 6th request within the window
        assert "访问过于频繁" in first_403.text
        assert [c.get(url).status_code for _ in range(2)] == [403, 403]
        assert c.get(replicas.urls["fujian_xiamen"] + "/robots.txt").status_code == 403
        assert c.get(column(replicas, "fujian_ningde")[0]).status_code == 200  # other portals unaffected
        assert time.monotonic() - banned_at < ban  # (all of the above happened during the ban)
        time.sleep(max(0.0, banned_at + ban + 0.05 - time.monotonic()))
        assert c.get(url).status_code == 200  # the ban has expired
    admin(replicas, "DELETE", "/portals/fujian_xiamen/faults")
    with client() as c:
        assert all(c.get(url).status_code == 200 for _ in range(8))


def test_malformed_html(replicas: ReplicaServer) -> None:
    replicas.world.set_faults("fujian_xiamen", malformed=True)
    url, _ = column(replicas, "fujian_xiamen")
    with client() as c:
        for target in (url, doc_url(replicas, a_doc(replicas, "fujian_xiamen"))):
            resp = c.get(target)
            assert resp.status_code == 200
            assert "</html>" not in resp.text
            assert resp.text.endswith("<table><tr><td>")
            lxml.html.fromstring(resp.text)  # still parseable by a forgiving parser
    assert_healthy(replicas, *others("fujian_xiamen"))
    replicas.world.clear_faults()
    assert_healthy(replicas, "fujian_xiamen")


def test_huge_page(replicas: ReplicaServer) -> None:
    replicas.world.set_faults("sichuan", huge=2_000_000)
    with client() as c:
        resp = c.get(doc_url(replicas, a_doc(replicas, "sichuan")), headers={"Accept-Encoding": "identity"})
    assert resp.status_code == 200
    assert len(resp.content) > 2_000_000
    assert resp.text.rstrip().endswith("</html>")
    assert_healthy(replicas, *others("sichuan"))
    replicas.world.clear_faults("sichuan")
    assert_healthy(replicas, "sichuan")


@pytest.mark.parametrize("portal_id", PORTALS)
def test_broken_layout(replicas: ReplicaServer, portal_id: str) -> None:
    doc_id = a_doc(replicas, portal_id)
    replicas.world.set_faults(portal_id, broken_layout=True)
    url, path = column(replicas, portal_id)
    with client() as c:
        listing = c.get(url)
        assert listing.status_code == 200
        assert article_paths(portal_id, path, decode(listing)) == []  # no article links any more
        detail = c.get(doc_url(replicas, doc_id))
        assert detail.status_code == 200
        assert '<div id="app"' in detail.text
        assert replicas.world.doc(doc_id).blocks[-1].text not in detail.text
        if portal_id == "guangdong_zhongshan":
            api = c.get(url.split("/ybj/")[0] + f"/ybj/gkmlpt/api/all/0?sid={SID}").json()
            assert [a for a in api["articles"] if a["type"] == "normal"] == []
        if portal_id == "nhsa":
            xml = c.get(replicas.urls["nhsa"] + "/module/web/jpage/dataproxy.jsp?columnid=104&page=1").text
            assert "<record>" not in xml
    assert_healthy(replicas, *others(portal_id))
    replicas.world.clear_faults(portal_id)
    assert_healthy(replicas, portal_id)


def test_unknown_fault_is_refused(replicas: ReplicaServer) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        replicas.world.set_faults("nhsa", meteor=True)
    with client() as c:
        assert c.post(replicas.admin_url + "/portals/nhsa/faults", json={"meteor": 1}).status_code == 400
    assert not replicas.world.portals["nhsa"].faults.active()
