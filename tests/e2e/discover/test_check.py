"""``check_portal``: a healthy discovered entry passes; a wrong column path, a wrong family and a firewall are
each named exactly; only the portal's own hosts are requested."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import pytest

from crawler.discover import check_portal, discover, render_check
from crawler.discover.entry import to_portal
from crawler.registry import Column
from tests.discover.helpers import FAMILY, Recorder


def discovered(server, portal_id):
    return to_portal(discover(server.urls[portal_id] + "/", delay=0).entry)


def broken_path(url: str) -> str:
    """The same column one directory off: a path the portal does not serve."""
    parts = urlsplit(url)
    head, _, tail = parts.path.rstrip("/").rpartition("/")
    return parts._replace(
        path=f"{head}/no_such_column/{tail}" + ("/" if parts.path.endswith("/") else "")
    ).geturl()


@pytest.mark.parametrize("portal_id", list(FAMILY))
def test_check_passes_a_healthy_portal_and_finds_a_wrong_column_path(make_replicas, portal_id):
    server = make_replicas(docs=60, seed=7)
    portal = discovered(server, portal_id)
    server.world.reset_stats()

    recorder = Recorder()
    report = check_portal(portal, delay=0, fetch=recorder)
    assert report.ok, render_check(report)
    for column in report.columns:
        assert column.status == 200
        assert column.links > 0
        assert column.sample_url
        assert {"title", "published_on", "body_text"} <= set(column.fields)
    assert recorder.netlocs() == {urlsplit(server.urls[portal_id]).netloc}

    wrong = Column(portal.columns[0].name, portal.columns[0].kind, broken_path(portal.columns[0].url))
    bad = dataclasses.replace(portal, columns=(wrong, *portal.columns[1:]))
    report = check_portal(bad, delay=0)
    text = render_check(report)
    assert not report.ok
    first, *rest = report.columns
    assert first.status == 404, text
    assert len(first.problems) == 1, text
    assert "answers 404: the column path is wrong or was moved" in first.problems[0]
    assert "no_such_column" in first.problems[0]
    assert all(c.ok for c in rest), text
    assert report.problems == []  # one column is wrong, not the portal's family
    assert "problem: list page:" in text


def test_check_suspects_the_wrong_family(make_replicas):
    server = make_replicas(docs=60, seed=7)
    portal = dataclasses.replace(discovered(server, "nhsa"), family="trs")
    report = check_portal(portal, delay=0)
    assert not report.ok
    assert report.problems == ["wrong family suspected: the pages look like hanweb, the entry says trs"]
    for column in report.columns:
        assert column.suspected_family == "hanweb"
        assert "list page: no article links found by the trs list logic" in column.problems
        assert any("looks like the hanweb family" in p and "dataproxy.jsp" in p for p in column.problems)


def test_check_reports_a_firewall_and_stops_there(make_replicas):
    server = make_replicas(docs=60, seed=7)
    portal = discovered(server, "fujian_ningde")
    server.world.set_faults("fujian_ningde", challenge=True)
    server.world.reset_stats()
    report = check_portal(portal, delay=0)
    assert not report.ok
    for column in report.columns:
        assert column.links == 0
        assert len(column.problems) == 1
        assert "blocked (HTTP 412" in column.problems[0]
    # robots.txt then one list request per column: no detail page asked once the site said no
    assert len(report.requests) == 1 + len(portal.columns)


def test_check_with_no_links_on_a_live_page(make_replicas):
    """The redesigned-template fault: lists answer 200 but hold no article links any more."""
    server = make_replicas(docs=60, seed=7)
    portal = discovered(server, "sichuan")
    server.world.set_faults("sichuan", broken_layout=True)
    report = check_portal(portal, delay=0)
    assert not report.ok
    for column in report.columns:
        assert column.status == 200
        assert column.problems == ["list page: no article links found by the sichuan list logic"]
