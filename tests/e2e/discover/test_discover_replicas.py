"""``discover`` on every replica family: the family, the columns and their kinds, a valid entry, politeness;
then the printed entries, written into a user config, crawl every document of the portals."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from crawler.discover import discover, render_discovery
from crawler.discover.entry import to_portal
from tests.crawler.helpers import write_config
from tests.discover.helpers import FAMILY, Recorder, archived, expected_columns, path_of
from tests.e2e.warm import helpers_crawl as crawl

REPLY_KINDS = {"suggestion_reply", "proposal_reply"}
RECORD_KINDS = {
    "replies": REPLY_KINDS,
    "policies": {"policy", "interpretation", "notice"},
    "reports": {"report"},
}


@pytest.mark.parametrize("portal_id", list(FAMILY))
def test_discover_from_the_home_page(make_replicas, portal_id):
    server = make_replicas(docs=60, seed=7)
    base = server.urls[portal_id]
    recorder = Recorder()
    found = discover(base + "/", fetch=recorder, delay=0)

    assert found.family == FAMILY[portal_id], render_discovery(found)
    included = [c for c in found.columns if c.included]
    assert {path_of(c.url): c.kind for c in included} == expected_columns(server, portal_id), (
        render_discovery(found)
    )
    for column in included:
        assert column.links > 0
        assert column.family == FAMILY[portal_id]
        assert column.sample_url
        assert urlsplit(column.sample_url).netloc == urlsplit(base).netloc
        assert {"title", "published_on", "body_text"} <= set(column.fields), column
        assert column.record_kind in RECORD_KINDS[column.kind], (
            column
        )  # the sample is what the column promises
    assert found.site_name == server.world.site(portal_id).bureau.name

    # the entry: valid for the registry, with what was found
    portal = to_portal(found.entry)
    assert portal.family == FAMILY[portal_id]
    assert portal.name == found.site_name
    assert {path_of(c.url): c.kind for c in portal.columns} == expected_columns(server, portal_id)
    assert portal.region_code == server.world.site(portal_id).bureau.region_code
    assert portal.level == server.world.site(portal_id).bureau.level
    text = render_discovery(found)
    assert found.entry.strip() in text
    assert "[[portals]]" in text

    # polite and bounded: this portal only (the replicas count every request they answer), one budget
    assert recorder.netlocs() == {urlsplit(base).netloc}
    assert len(recorder.requests) == len(found.requests) <= 31  # the budget of 30 pages + robots.txt
    stats = server.world.stats()
    assert {pid for pid, s in stats.items() if s["total"]} == {portal_id}
    assert stats[portal_id]["total"] == len(recorder.requests)


def test_discover_from_a_column_page(make_replicas):
    server = make_replicas(docs=60, seed=7)
    base = server.urls["fujian_xiamen"]
    found = discover(base + "/zwgk/jytabl/", delay=0)
    assert found.family == "trs"
    start = next(c for c in found.columns if c.url == base + "/zwgk/jytabl/")
    assert (start.kind, start.kind_source, start.included) == ("replies", "start page", True)
    assert to_portal(found.entry).columns[0].url == base + "/zwgk/jytabl/"


def test_discover_stops_at_the_page_budget(make_replicas):
    server = make_replicas(docs=60, seed=7)
    recorder = Recorder()
    found = discover(server.urls["nhsa"] + "/", fetch=recorder, delay=0, max_pages=5)
    assert len(recorder.requests) == 6  # robots.txt + 5 pages: home, two columns' list and sample page
    assert [c.included for c in found.columns] == [True, True]
    assert len(to_portal(found.entry).columns) == 2
    assert any("not sampled" in note for note in found.notes)


def test_discover_says_when_the_site_blocks_it(make_replicas):
    server = make_replicas(docs=20, seed=7)
    server.world.set_faults("sichuan", challenge=True)
    found = discover(server.urls["sichuan"] + "/", delay=0)
    assert not found.ok
    assert found.entry == ""
    assert len(found.problems) == 1
    assert "412" in found.problems[0]
    assert "$_ts" in found.problems[0]
    assert (
        len(found.requests) == 2
    )  # robots.txt (412: treated as unavailable) and the home page, nothing more


def test_discovered_entries_crawl_every_document(make_replicas, tmp_path):
    server = make_replicas(docs=60, seed=7)
    world = server.world
    entries = {pid: discover(server.urls[pid] + "/", delay=0) for pid in FAMILY}
    ids = {pid: found.portal_id for pid, found in entries.items()}
    assert len(set(ids.values())) == len(ids)
    archive = tmp_path / "archive.db"
    config = write_config(tmp_path / "user.toml", archive, *(found.entry for found in entries.values()))

    code, summary = crawl(config, *ids.values(), cwd=tmp_path)
    assert code == 0, summary
    assert {s["health"] for s in summary.values()} == {"ok"}, summary

    got = archived(archive)
    for pid, portal_id in ids.items():
        base = server.urls[pid]
        variant = "gkmlpt" if pid == "guangdong_zhongshan" else None
        truth = {}
        for doc in world.docs(pid):
            page = world.truth(doc.doc_id, variant)
            truth[base + page["url_path"]] = page
        mine = {url: record for url, (portal, record) in got.items() if portal == portal_id}
        assert set(mine) == set(truth), pid  # every document, at its URL on the discovered columns
        for url, record in mine.items():
            assert record["title"] == truth[url]["title"], url
            assert record["kind"] == truth[url]["kind"], url
            assert record["bureau"] == truth[url]["bureau"], url
