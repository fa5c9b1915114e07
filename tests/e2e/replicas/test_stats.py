"""Request counting per portal and path, via the Python API and the admin endpoint; reset."""

from __future__ import annotations

from replicas.server import ReplicaServer
from tests.replicas.helpers import PORTALS, admin, client


def test_exact_counts_after_a_known_sequence(replicas: ReplicaServer) -> None:
    world = replicas.world
    world.reset_stats()
    xm, nh = replicas.urls["fujian_xiamen"], replicas.urls["nhsa"]
    detail = world.urls(next(d.doc_id for d in world.docs("fujian_xiamen") if not d.seed))["main"]
    proxy = "/module/web/jpage/dataproxy.jsp"
    with client() as c:
        for _ in range(2):
            c.get(xm + "/zwgk/jytabl/")
        etag = ""
        for _ in range(3):
            etag = c.get(xm + detail).headers["etag"]
        c.get(xm + detail, headers={"If-None-Match": etag})
        c.get(xm + "/no/such/page.htm")
        c.get(xm + "/robots.txt")
        c.post(nh + proxy + "?startrecord=1&endrecord=45&perpage=15", data={"columnid": "104"})
        c.get(nh + proxy, params={"columnid": "104", "page": "2"})
    stats = world.stats()
    assert set(stats) == set(PORTALS)
    assert stats["fujian_xiamen"]["paths"] == {
        "/zwgk/jytabl/": 2,
        detail: 4,
        "/no/such/page.htm": 1,
        "/robots.txt": 1,
    }
    assert stats["fujian_xiamen"]["total"] == 8
    assert stats["fujian_xiamen"]["statuses"] == {"200": 6, "304": 1, "404": 1}
    assert stats["nhsa"]["paths"] == {proxy: 2}
    assert stats["nhsa"]["log"] == [
        ("POST", proxy + "?startrecord=1&endrecord=45&perpage=15", 200),
        ("GET", proxy + "?columnid=104&page=2", 200),
    ]
    for pid in ("fujian_ningde", "guangdong_zhongshan", "sichuan"):
        assert stats[pid]["total"] == 0
        assert stats[pid]["log"] == []
    assert world.stats("nhsa") == {"nhsa": stats["nhsa"]}

    # the admin endpoint reports the same numbers (and is not counted itself)
    over_http = admin(replicas, "GET", "/stats").json()
    assert over_http["fujian_xiamen"]["paths"] == stats["fujian_xiamen"]["paths"]
    assert over_http["fujian_xiamen"]["statuses"] == stats["fujian_xiamen"]["statuses"]
    assert "log" not in over_http["fujian_xiamen"]
    one = admin(replicas, "GET", "/stats?portal=nhsa&log=1").json()
    assert list(one) == ["nhsa"]
    assert [tuple(e) for e in one["nhsa"]["log"]] == stats["nhsa"]["log"]

    admin(replicas, "POST", "/stats/reset")
    assert all(v["total"] == 0 and v["paths"] == {} for v in world.stats().values())
    with client() as c:
        c.get(xm + "/zwgk/jytabl/")
    assert admin(replicas, "GET", "/stats?portal=fujian_xiamen").json()["fujian_xiamen"]["total"] == 1
    world.reset_stats()
    assert world.stats("fujian_xiamen")["fujian_xiamen"]["total"] == 0


def test_faulted_requests_are_counted_with_their_status(replicas: ReplicaServer) -> None:
    world = replicas.world
    world.reset_stats()
    world.set_faults("sichuan", error_burst=2)
    url = replicas.urls["sichuan"] + world.site("sichuan").column_path("jyta")
    with client() as c:
        for _ in range(3):
            c.get(url)
    stats = world.stats("sichuan")["sichuan"]
    assert stats["statuses"] == {"503": 2, "200": 1}
    assert [s for _, _, s in stats["log"]] == [503, 503, 200]


def test_admin_lists_portals_and_documents(replicas: ReplicaServer) -> None:
    portals = admin(replicas, "GET", "/portals").json()
    assert set(portals) == set(PORTALS)
    assert portals["nhsa"]["family"] == "hanweb"
    assert portals["fujian_ningde"]["url"] == replicas.urls["fujian_ningde"]
    docs = admin(replicas, "GET", "/portals/sichuan/docs").json()
    assert {d["doc_id"] for d in docs} == {d.doc_id for d in replicas.world.docs("sichuan")}
    assert all(d["urls"]["main"].startswith(replicas.urls["sichuan"]) for d in docs)
    with client() as c:
        assert c.get(replicas.urls["sichuan"] + "/stats").status_code == 404  # admin is not on the portals
