"""Politeness: only the portal's own host:port is ever requested, offsite links are skipped and
counted, robots.txt is obeyed, the User-Agent is the descriptive one, requests are spaced by default."""

from __future__ import annotations

import itertools
import posixpath
import re
from urllib.parse import urlsplit

import pytest

import crawler.settings as project_settings
from replicas.registry import load_entries
from tests.crawler.helpers import (
    REPLICAS,
    generic_portal,
    local_site,
    query,
    replica_portals,
    run_stats,
    write_config,
)
from tests.e2e.warm import helpers_crawl as crawl
from tests.e2e.warm import helpers_scrapy as scrapy
from tests.e2e.warm import helpers_yibao as yibao

UA = re.compile(r"^YibaoWatch/\d+\.\d+\S* \(\+https?://\S+; .*contact: \S+@\S+\)$")
EXTRA_PATHS = {"nhsa": ("/module/web/jpage/dataproxy.jsp", "/module/download/downfile.jsp")}  # lists, attachments
ARTICLE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title></head><body><h1>{title}</h1>'
    '<div id="content"><p>{title}：为进一步规范医疗保障基金使用，现将有关事项通知如下。</p>'
    "<p>一、各级医疗保障部门要加强监督检查，确保基金安全。</p><p>二、本通知自印发之日起施行。</p></div></body></html>"
)


def allowed_path(world, portal_id: str, path: str) -> bool:
    """Is ``path`` one the portal's spider may ask its own server for?"""
    site = world.site(portal_id)
    path = path.split("?", 1)[0]
    if path == "/robots.txt" or path in site.paths or path in site.files:
        return True
    columns = load_entries()[portal_id]["columns"]  # the replica registry's paths
    prefixes = {posixpath.dirname(urlsplit(c["url"]).path) + "/" for c in columns}
    return path.startswith(tuple(prefixes) + EXTRA_PATHS.get(portal_id, ()))


def test_each_spider_requests_only_its_own_portal(make_replicas, tmp_path):
    server = make_replicas(docs=30)
    world = server.world
    config = write_config(tmp_path / "user.toml", tmp_path / "archive.db", replica_portals(server))
    code, summary = crawl(config, cwd=tmp_path)
    assert code == 0, summary
    for portal_id, stats in world.stats().items():
        paths = [path for _, path, _ in stats["log"]]
        assert paths[0] == "/robots.txt", (portal_id, paths[:3])  # asked before anything else
        assert paths.count("/robots.txt") == 1
        strays = [p for p in paths if not allowed_path(world, portal_id, p)]
        assert not strays, (portal_id, strays)
        assert summary[portal_id]["requests"] == len(paths)  # every request the spider made is in this log
    assert {p for (p,) in query(tmp_path / "archive.db", "SELECT DISTINCT portal_id FROM postings")} == set(
        REPLICAS
    )


@pytest.fixture
def offsite_setup(make_replicas):
    """A local site whose list links to its own articles and to another portal (same host, other port)."""
    server = make_replicas(docs=30)
    world = server.world
    other = server.urls["fujian_xiamen"]
    docs = world.docs("fujian_xiamen")[:2]
    offsite = [other + world.urls(d.doc_id)["main"] for d in docs]
    offsite.append(offsite[0].replace("127.0.0.1", "localhost"))  # another host name, same machine
    with local_site() as site:
        own = [f"/a/{i}.html" for i in range(1, 4)]
        links = [*own, *offsite, "javascript:void(0)", "mailto:ybj@example.org"]
        items = "".join(f'<li><a href="{href}">医保文件{n}</a></li>' for n, href in enumerate(links))
        site.page("/robots.txt", "User-agent: *\nDisallow:\n", Content_Type="text/plain")
        site.page(
            "/list/",
            f'<html><body><ul class="l">{items}</ul><a class="next" href="{other}/zwgk/jytabl/">下一页</a></body></html>',
        )
        for n, path in enumerate(own, start=1):
            site.page(path, ARTICLE.format(title=f"关于加强医保基金监管的第{n}号通知"))
        yield server, site, own, len(links) - len(own)


def test_offsite_links_are_skipped_and_counted(offsite_setup, tmp_path):
    server, site, own, n_offsite = offsite_setup
    archive = tmp_path / "archive.db"
    config = write_config(
        tmp_path / "user.toml",
        archive,
        generic_portal(
            "local_portal", site.url + "/list/", link="ul.l a", body="#content", next_page="a.next"
        ),
    )
    code, summary = crawl(config, "local_portal", cwd=tmp_path)
    assert code == 0, summary
    assert all(
        s["total"] == 0 for s in server.world.stats().values()
    )  # not even robots.txt of the other port
    assert sorted(site.paths()) == sorted(["/robots.txt", "/list/", *own])
    urls = {u for (u,) in query(archive, "SELECT url FROM postings")}
    assert urls == {site.url + p for p in own}
    stats = run_stats(archive, "local_portal")
    assert stats["yibao/offsite_skipped"] == n_offsite + 1  # the links and the next-page link
    assert stats["yibao/listed"] == len(own) + n_offsite
    assert stats["yibao/list_pages"] == 1


def test_a_redirect_offsite_is_not_followed(offsite_setup, tmp_path):
    server, site, own, _ = offsite_setup
    world = server.world
    target = server.urls["fujian_xiamen"] + world.urls(world.docs("fujian_xiamen")[0].doc_id)["main"]
    site.redirect("/go/1.html", target)
    site.page(
        "/list/",
        '<html><body><ul class="l"><li><a href="/go/1.html">跳转文件</a></li>'
        f'<li><a href="{own[0]}">医保文件</a></li></ul></body></html>',
    )
    archive = tmp_path / "archive.db"
    config = write_config(
        tmp_path / "user.toml",
        archive,
        generic_portal("local_portal", site.url + "/list/", link="ul.l a", body="#content"),
    )
    crawl(config, "local_portal", cwd=tmp_path)
    assert "/go/1.html" in site.paths()
    assert server.world.stats("fujian_xiamen")["fujian_xiamen"]["log"] == []
    assert {u for (u,) in query(archive, "SELECT url FROM postings")} == {site.url + own[0]}


# -- robots.txt ----------------------------------------------------------------------------------------


def test_robots_disallowed_column_is_never_requested(make_replicas, tmp_path):
    server = make_replicas(docs=30)
    world = server.world
    world.site("fujian_xiamen").robots_disallow = ("/zwgk/jytabl/",)  # Xiamen serves robots mode "disallow"
    archive = tmp_path / "archive.db"
    config = write_config(
        tmp_path / "user.toml", archive, replica_portals(server, "fujian_xiamen")
    )
    code, summary = crawl(config, "fujian_xiamen", cwd=tmp_path)
    assert code == 0, summary  # the other columns are crawled: a healthy run
    paths = [path for _, path, _ in world.stats("fujian_xiamen")["fujian_xiamen"]["log"]]
    assert paths[0] == "/robots.txt"
    assert not [p for p in paths if p.startswith("/zwgk/jytabl/")], paths
    allowed = [d for d in world.docs("fujian_xiamen") if d.column != "jytabl"]
    assert allowed
    assert summary["fujian_xiamen"]["new"] == len(allowed)
    assert {u for (u,) in query(archive, "SELECT url FROM postings")} == {
        server.urls["fujian_xiamen"] + world.urls(d.doc_id)["main"] for d in allowed
    }
    assert run_stats(archive, "fujian_xiamen")["robotstxt/forbidden"] == 1  # the column page


def test_robots_disallow_all_means_nothing_but_robots_txt(tmp_path):
    with local_site() as site:
        site.page("/robots.txt", "User-agent: *\nDisallow: /\n", Content_Type="text/plain")
        site.page(
            "/list/", '<html><body><ul class="l"><li><a href="/a/1.html">文件</a></li></ul></body></html>'
        )
        site.page("/a/1.html", ARTICLE.format(title="关于医保的通知"))
        config = write_config(
            tmp_path / "user.toml",
            tmp_path / "archive.db",
            generic_portal("local_portal", site.url + "/list/", link="ul.l a", body="#content"),
        )
        code, summary = crawl(config, "local_portal", cwd=tmp_path)
    assert site.paths() == ["/robots.txt"]
    assert code == 1  # a run that could read no list page failed
    assert summary["local_portal"]["health"] == "failed"
    assert summary["local_portal"]["new"] == 0


def test_robots_rules_for_our_user_agent_are_obeyed(tmp_path):
    """A group naming our agent's product token applies to us, even when ``*`` allows everything."""
    with local_site() as site:
        site.page(
            "/robots.txt",
            "User-agent: *\nDisallow:\n\nUser-agent: YibaoWatch\nDisallow: /private/\n",
            Content_Type="text/plain",
        )
        site.page(
            "/list/",
            '<html><body><ul class="l"><li><a href="/private/1.html">内部文件</a></li>'
            '<li><a href="/public/2.html">公开文件</a></li></ul></body></html>',
        )
        site.page("/private/1.html", ARTICLE.format(title="内部通知"))
        site.page("/public/2.html", ARTICLE.format(title="关于医保的公开通知"))
        config = write_config(
            tmp_path / "user.toml",
            tmp_path / "archive.db",
            generic_portal("local_portal", site.url + "/list/", link="ul.l a", body="#content"),
        )
        code, summary = crawl(config, "local_portal", cwd=tmp_path)
    assert code == 0, summary
    assert sorted(site.paths()) == ["/list/", "/public/2.html", "/robots.txt"]


# -- identity and pace ------------------------------------------------------------------------------------


def test_every_request_carries_the_descriptive_user_agent_and_is_spaced(tmp_path):
    """Without ``--fast``: the project's politeness settings (delay, one request at a time per site)."""
    with local_site() as site:
        site.page("/robots.txt", "User-agent: *\nDisallow:\n", Content_Type="text/plain")
        site.page(
            "/list/",
            '<html><body><ul class="l"><li><a href="/a/1.html">文件一</a></li>'
            '<li><a href="/a/2.html">文件二</a></li></ul></body></html>',
        )
        for n in (1, 2):
            site.page(f"/a/{n}.html", ARTICLE.format(title=f"关于医保的第{n}号通知"))
        config = write_config(
            tmp_path / "user.toml",
            tmp_path / "archive.db",
            generic_portal("local_portal", site.url + "/list/", link="ul.l a", body="#content"),
        )
        done = yibao("--config", str(config), "crawl", "--json", "local_portal", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sorted(site.paths()) == ["/a/1.html", "/a/2.html", "/list/", "/robots.txt"]
    agents = {hit.user_agent for hit in site.hits}
    assert agents == {project_settings.USER_AGENT}
    assert UA.match(project_settings.USER_AGENT), project_settings.USER_AGENT
    times = sorted(hit.at for hit in site.hits)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # DOWNLOAD_DELAY 1 s with a ±50 % jitter, AutoThrottle starting at 1 s: never a burst
    assert min(gaps) >= 0.4, gaps


def test_politeness_is_the_project_default():
    assert project_settings.ROBOTSTXT_OBEY is True
    assert project_settings.CONCURRENT_REQUESTS_PER_DOMAIN == 1
    assert project_settings.DOWNLOAD_DELAY >= 1
    assert project_settings.AUTOTHROTTLE_ENABLED is True
    assert 429 in project_settings.RETRY_HTTP_CODES
    done = scrapy("settings", "--get", "USER_AGENT")  # what `scrapy crawl` in the project root uses
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == project_settings.USER_AGENT
