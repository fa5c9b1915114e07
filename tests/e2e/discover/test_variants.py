"""Portal templates nobody has seen (``tests/discover/variants.py``): discover prints a working entry and the
entry crawls every document right — a TRS redesign reached through a 政务公开 hub, and a site of no known
family, read with the generic CSS selectors that discover suggests."""

from __future__ import annotations

import json
import unicodedata

import pytest

from crawler.discover import check_portal, discover, render_check, render_discovery
from crawler.discover.entry import to_portal
from replicas.world import ReplicaWorld
from tests.crawler.helpers import local_site, write_config
from tests.discover.helpers import Recorder, archived, path_of
from tests.discover.variants import COUNTY_COLUMNS, TRS_COLUMNS, county_generic, trs_redesign
from tests.e2e.warm import helpers_crawl as crawl


def fold(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


@pytest.fixture(scope="module")
def world() -> ReplicaWorld:
    return ReplicaWorld(docs=80, seed=7)


def crawl_entry(tmp_path, entry: str, portal_id: str) -> dict[str, dict]:
    archive = tmp_path / "archive.db"
    config = write_config(tmp_path / "user.toml", archive, entry)
    code, summary = crawl(config, portal_id, cwd=tmp_path)
    assert code == 0, summary
    assert summary[portal_id]["health"] == "ok", summary
    return {url: record for url, (portal, record) in archived(archive).items() if portal == portal_id}


def test_a_trs_redesign_behind_a_hub_page(world, tmp_path):
    with local_site() as site:
        served = trs_redesign(site, world.docs("fujian_xiamen"), "厦门市医疗保障局")
        recorder = Recorder()
        found = discover(site.url + "/", fetch=recorder, delay=0)
        text = render_discovery(found)
        assert found.family == "trs", text
        assert {path_of(c.url): c.kind for c in found.columns if c.included} == {
            f"/zwgk_535/{path}/": kind for path, (_, kind, _) in TRS_COLUMNS.items()
        }, text
        hub = next(c for c in found.columns if c.name == "建议提案办理")
        assert not hub.included
        assert hub.problems == [
            "a page of sub-columns, not a list: 人大代表建议, 政协委员提案 sampled instead"
        ]
        asked = [r.url.removeprefix(site.url) for r in recorder.requests]
        assert "/zwgk/index.html" in asked  # the hub was read for its column links
        assert not {"/zwgk/xxgkzn/", "/zwgk/ysqgk/", "/bsfw/"} & set(
            asked
        )  # guides and services are no columns
        assert recorder.netlocs() == {site.url.removeprefix("http://")}

        portal = to_portal(found.entry)
        assert check_portal(portal, delay=0).ok

        site.hits.clear()
        got = crawl_entry(tmp_path, found.entry, found.portal_id)
        assert set(got) == set(served)  # every list page of every column, through the .html TRS pager
        for url, record in got.items():
            truth = served[url][1].truth()
            for key in ("title", "kind", "index_no", "doc_no", "published_on", "generated_on", "proposal_no"):
                assert record[key] == truth[key], (url, key)
            assert fold(record["body_text"]) == fold(truth["body_text"]), url


def test_a_site_of_no_known_family_gets_generic_selectors(world, tmp_path):
    with local_site() as site:
        served = county_generic(site, world.docs("fujian_ningde"), "宁德市医疗保障局")
        found = discover(site.url + "/", delay=0)
        text = render_discovery(found)
        assert found.family == "generic", text
        assert found.evidence == [
            "no CMS family fingerprint matched: generic CSS selectors suggested and verified"
        ]
        assert {path_of(c.url): c.kind for c in found.columns if c.included} == {
            f"/list-{n}.html": kind for n, (_, kind, _) in COUNTY_COLUMNS.items()
        }, text
        options = to_portal(found.entry).options
        assert {"link", "body", "title", "next_page"} <= set(options), options

        report = check_portal(to_portal(found.entry), delay=0)
        assert report.ok, render_check(report)
        assert all(c.next_page for c in report.columns if c.kind == "replies")

        got = crawl_entry(tmp_path, found.entry, found.portal_id)
        assert set(got) == set(served)  # page 2 and on, by the suggested next_page selector
        for url, record in got.items():
            truth = served[url][1].truth()
            for key in ("title", "kind", "published_on", "proposal_no", "signed_on"):
                assert record[key] == truth[key], (url, key)
            assert fold(record["body_text"]) == fold(truth["body_text"]), url


def test_a_next_page_that_robots_txt_forbids_is_reported():
    with local_site() as site:
        site.page("/robots.txt", "User-agent: *\nDisallow: /jyta/index_\n", Content_Type="text/plain")
        site.page(
            "/",
            '<html><head><title>某市医疗保障局</title></head><body><a href="/jyta/">建议提案办理</a></body></html>',
        )
        links = "".join(
            f'<li><a href="./202501/t2025010{i}_{i}.htm">某市医疗保障局关于第{i}号建议的答复</a></li>'
            for i in range(1, 4)
        )
        site.page(
            "/jyta/",
            f'<html><body><ul>{links}</ul><script>createPageHTML(2, 0, "index", "htm");</script></body></html>',
        )
        site.page(
            "/jyta/202501/t20250101_1.htm",
            "<html><body><h1>某市医疗保障局关于第1号建议的答复</h1><div><p>张三代表：</p>"
            "<p>您提出的关于加快长期护理保险扩面的建议收悉。现答复如下。</p></div></body></html>",
        )
        found = discover(site.url + "/", delay=0)
        (column,) = found.columns
        assert column.family == "trs"
        assert column.next_page == site.url + "/jyta/index_1.htm"
        assert column.problems == [
            f"robots.txt disallows the next list page {site.url}/jyta/index_1.htm: a crawl reads the first page only"
        ]
        assert "/jyta/index_1.htm" not in site.paths()


def test_a_gkmlpt_directory_linked_from_the_home_page():
    """The directory's tree is in JavaScript notation and its SID differs from the replica's."""
    article = {"id": 1024, "type": "normal", "title": "关于市十六届人大五次会议第2025001号建议答复的函",
               "url": "/ybj/gkmlpt/content/0/1/post_1024.html", "identifier": "11442000MB2D27401K/2025-00001",
               "create_time": 1746576000}  # fmt: skip
    with local_site() as site:
        site.page("/robots.txt", "", status=404)
        site.page("/ybj/", '<html><head><title>某市医疗保障局</title></head><body>'
                  '<a href="/ybj/gkmlpt/index#11">政府信息公开目录</a></body></html>')  # fmt: skip
        site.page(
            "/ybj/gkmlpt/index",
            "<html><head><script>window._CONFIG = { SID: '760099', TREE: [{id: 11,"
            " name: '人大建议', children: []}, {id: 12, name: '机构职能', children: []}] };</script></head></html>",
        )
        site.page("/ybj/gkmlpt/api/all/11?page=1&sid=760099",
                  json.dumps({"total": 1, "articles": [article]}, ensure_ascii=False),
                  Content_Type="application/json")  # fmt: skip
        site.page("/ybj/gkmlpt/content/0/1/post_1024.html", "<html><body><h1>" + article["title"] + "</h1><div>"
                  "<p>张三代表：</p><p>您提出的《关于加快长期护理保险扩面的建议》收悉。现答复如下。</p>"
                  "<p>" + "正文。" * 60 + "</p></div></body></html>")  # fmt: skip
        found = discover(site.url + "/ybj/", delay=0)
        assert found.family == "gkmlpt", render_discovery(found)
        assert found.options == {"sid": "760099"}
        (column,) = found.columns  # 机构职能 names no document column
        assert (column.name, column.kind, column.url) == (
            "人大建议",
            "replies",
            site.url + "/ybj/gkmlpt/index#11",
        )
        assert column.fields["title"] == article["title"]
        assert column.record_kind == "suggestion_reply"
        assert "/ybj/gkmlpt/index" in site.paths()
        assert not any("api/all/12" in p for p in site.paths())
