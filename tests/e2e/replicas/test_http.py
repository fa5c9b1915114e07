"""HTTP behaviour common to the replica portals: validators, gzip, robots.txt, noise."""

from __future__ import annotations

import gzip
import re
import urllib.robotparser
from datetime import UTC, datetime
from email.utils import format_datetime
from zoneinfo import ZoneInfo

import pytest

from replicas.model import Document
from replicas.server import ReplicaServer
from replicas.sites.gkmlpt import SID
from tests.replicas.helpers import PORTALS, admin, client, decode, doc_url, visible_text


def some_doc(server: ReplicaServer, portal_id: str) -> Document:
    return next(d for d in server.world.docs(portal_id) if not d.seed and d.kind.endswith("_reply"))


def column_url(server: ReplicaServer, portal_id: str) -> str:
    site = server.world.site(portal_id)
    return server.urls[portal_id] + site.column_path(site.bureau.columns[0].key)


# -- conditional GET -------------------------------------------------------------------------------


@pytest.mark.parametrize("portal_id", ["fujian_xiamen", "fujian_ningde", "guangdong_zhongshan", "nhsa"])
def test_etag_gives_304(replicas: ReplicaServer, portal_id: str) -> None:
    urls = [doc_url(replicas, some_doc(replicas, portal_id).doc_id), column_url(replicas, portal_id)]
    with client() as c:
        for url in urls:
            first = c.get(url)
            etag = first.headers["etag"]
            again = c.get(url, headers={"If-None-Match": etag})
            assert again.status_code == 304, url
            assert again.content == b""
            assert again.headers["etag"] == etag
            assert c.get(url, headers={"If-None-Match": '"other", ' + etag}).status_code == 304
            assert c.get(url, headers={"If-None-Match": '"stale-1"'}).status_code == 200


def test_etag_on_json_and_xml_lists(replicas: ReplicaServer) -> None:
    zs = replicas.urls["guangdong_zhongshan"] + f"/ybj/gkmlpt/api/all/0?page=1&sid={SID}"
    xm = replicas.urls["fujian_xiamen"] + "/ssp/search/api/apiSearch?page=1&rows=10"
    nh = (
        replicas.urls["nhsa"]
        + "/module/web/jpage/dataproxy.jsp?startrecord=1&endrecord=45&perpage=15&columnid=104"
    )
    with client() as c:
        for url in (zs, xm, nh):
            etag = c.get(url).headers["etag"]
            assert c.get(url, headers={"If-None-Match": etag}).status_code == 304
        # a new document changes the first page's validator
        replicas.world.publish("guangdong_zhongshan")
        assert c.get(zs, headers={"If-None-Match": c.get(zs).headers["etag"]}).status_code == 304
        old = c.get(zs).headers["etag"]
        replicas.world.publish("guangdong_zhongshan")
        assert c.get(zs, headers={"If-None-Match": old}).status_code == 200


@pytest.mark.parametrize("portal_id", ["sichuan", "fujian_xiamen"])
def test_last_modified_gives_304(replicas: ReplicaServer, portal_id: str) -> None:
    urls = [doc_url(replicas, some_doc(replicas, portal_id).doc_id), column_url(replicas, portal_id)]
    with client() as c:
        for url in urls:
            first = c.get(url)
            stamp = first.headers["last-modified"]
            assert c.get(url, headers={"If-Modified-Since": stamp}).status_code == 304
            later = format_datetime(datetime(2030, 1, 1, tzinfo=UTC), usegmt=True)
            assert c.get(url, headers={"If-Modified-Since": later}).status_code == 304
            earlier = format_datetime(datetime(2001, 1, 1, tzinfo=UTC), usegmt=True)
            assert c.get(url, headers={"If-Modified-Since": earlier}).status_code == 200
            assert c.get(url, headers={"If-Modified-Since": "not a date"}).status_code == 200
            if portal_id == "sichuan":  # Last-Modified but no ETag; If-None-Match is ignored
                assert "etag" not in first.headers
                assert c.get(url, headers={"If-None-Match": "*"}).status_code == 200


# -- gzip ------------------------------------------------------------------------------------------


def test_gzip_only_when_asked(replicas: ReplicaServer) -> None:
    url = doc_url(replicas, some_doc(replicas, "fujian_xiamen").doc_id)
    with client() as c:
        with c.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as resp:
            raw = b"".join(resp.iter_raw())
            assert resp.headers["content-encoding"] == "gzip"
            assert resp.headers["vary"] == "Accept-Encoding"
        plain = c.get(url, headers={"Accept-Encoding": "identity"})
    assert raw[:2] == b"\x1f\x8b"
    assert "content-encoding" not in plain.headers
    assert int(plain.headers["content-length"]) == len(plain.content)
    assert len(raw) < len(plain.content)
    # same page apart from the noise (visit counter, related articles)
    assert (
        visible_text(gzip.decompress(raw).decode()).split("相关文章")[0].split("浏览次数")[0]
        == (visible_text(plain.text).split("相关文章")[0].split("浏览次数")[0])
    )


def test_forced_gzip_fault(replicas: ReplicaServer) -> None:
    doc = some_doc(replicas, "sichuan")
    url = doc_url(replicas, doc.doc_id)
    replicas.world.set_faults("sichuan", force_gzip=True)
    with client() as c:
        with c.stream("GET", url, headers={"Accept-Encoding": "identity"}) as resp:
            raw = b"".join(resp.iter_raw())
            assert resp.headers["content-encoding"] == "gzip"
        assert raw[:2] == b"\x1f\x8b"
        assert doc.title in gzip.decompress(raw).decode()
        other = c.get(column_url(replicas, "nhsa"), headers={"Accept-Encoding": "identity"})
        assert "content-encoding" not in other.headers  # other portals unaffected
        replicas.world.clear_faults("sichuan")
        assert "content-encoding" not in c.get(url, headers={"Accept-Encoding": "identity"}).headers


# -- robots.txt ------------------------------------------------------------------------------------


ROBOTS = {
    "fujian_xiamen": (200, "/wcm/"),
    "fujian_ningde": (404, None),
    "guangdong_zhongshan": (200, None),
    "sichuan": (403, None),
    "nhsa": (200, "/jcms/"),
}


@pytest.mark.parametrize("portal_id", PORTALS)
def test_robots_variant_per_portal(replicas: ReplicaServer, portal_id: str) -> None:
    status, disallowed = ROBOTS[portal_id]
    with client() as c:
        resp = c.get(replicas.urls[portal_id] + "/robots.txt")
    assert resp.status_code == status
    if status != 200:
        return
    assert resp.headers["content-type"].startswith("text/plain")
    parser = urllib.robotparser.RobotFileParser()
    parser.parse(resp.text.splitlines())
    site = replicas.world.site(portal_id)
    article = site.primary_path(some_doc(replicas, portal_id))
    assert parser.can_fetch("yibao-watch", article)
    assert parser.can_fetch("yibao-watch", site.column_path(site.bureau.columns[0].key))
    if disallowed:
        assert f"Disallow: {disallowed}" in resp.text
        assert not parser.can_fetch("yibao-watch", disallowed + "login.jsp")
    else:
        assert re.search(r"^Disallow:\s*$", resp.text, re.M)


def test_robots_switch_at_run_time(replicas: ReplicaServer) -> None:
    url = replicas.urls["guangdong_zhongshan"] + "/robots.txt"
    with client() as c:
        assert c.get(url).status_code == 200
        replicas.world.set_robots("guangdong_zhongshan", "forbidden")
        assert c.get(url).status_code == 403
        admin(replicas, "POST", "/portals/guangdong_zhongshan/robots", {"mode": "missing"})
        assert c.get(url).status_code == 404
        replicas.world.set_robots("guangdong_zhongshan", "disallow")
        assert c.get(url).status_code == 200
        replicas.world.set_robots("sichuan", "allow")
        assert c.get(replicas.urls["sichuan"] + "/robots.txt").status_code == 200
        bad = c.post(replicas.admin_url + "/portals/sichuan/robots", json={"mode": "maybe"})
        assert bad.status_code == 400
    with pytest.raises(ValueError, match="robots mode"):
        replicas.world.set_robots("nhsa", "sometimes")


# -- noise -----------------------------------------------------------------------------------------

VISITS = re.compile(r"(?:浏览次数：|访问量：|点击数：|浏览量：)(?:<span class=\"visits\">)?(\d+)")


@pytest.mark.parametrize("portal_id", PORTALS)
def test_noise_changes_the_page_not_the_validator(replicas: ReplicaServer, portal_id: str) -> None:
    variant = "nfcms" if portal_id == "guangdong_zhongshan" else None  # the NFCMS page has 相关文章
    url = doc_url(replicas, some_doc(replicas, portal_id).doc_id, variant)
    with client() as c:
        responses = [c.get(url) for _ in range(6)]
    bodies = [decode(r) for r in responses]
    assert len(set(bodies)) == 6  # every request differs...
    visits = [int(VISITS.search(b).group(1)) for b in bodies]  # type: ignore[union-attr]
    assert visits == list(range(visits[0], visits[0] + 6))  # ...the visit counter counts up
    if portal_id == "sichuan":
        assert len({r.headers["last-modified"] for r in responses}) == 1
    else:
        assert len({r.headers["etag"] for r in responses}) == 1  # ...while the validator stays put
    if portal_id in ("fujian_xiamen", "fujian_ningde", "guangdong_zhongshan"):
        related = [b.split("相关文章", 1)[1] for b in bodies]
        orders = {tuple(re.findall(r'href="([^"]+)"', r)[:5]) for r in related}
        assert len(orders) > 1  # 相关文章 is a new random pick each time


@pytest.mark.parametrize("portal_id", PORTALS)
def test_today_appears_on_pages(replicas: ReplicaServer, portal_id: str) -> None:
    def today() -> str:
        now = datetime.now(ZoneInfo("Asia/Shanghai"))
        return f"今天是{now.year}年{now.month}月{now.day}日"

    before = today()
    with client() as c:
        pages = [
            decode(c.get(column_url(replicas, portal_id))),
            decode(c.get(doc_url(replicas, some_doc(replicas, portal_id).doc_id))),
        ]
    after = today()
    for markup in pages:
        assert before in markup or after in markup
