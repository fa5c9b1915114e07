"""Small helpers for the replica tests: fetching, decoding by the page's own charset, visible text."""

from __future__ import annotations

import html
import re
import ssl
from collections.abc import Iterable
from functools import cache

import httpx
import lxml.html

from replicas.server import ReplicaServer

PORTALS = ("fujian_xiamen", "fujian_ningde", "guangdong_zhongshan", "sichuan", "nhsa")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset=([\w-]+)", re.I)


@cache
def _ssl_context() -> ssl.SSLContext:
    return ssl.create_default_context()


def client(**kwargs: object) -> httpx.Client:
    """An httpx client for the replicas (plain HTTP; one shared TLS context keeps creation cheap)."""
    kwargs.setdefault("timeout", 10)
    return httpx.Client(verify=_ssl_context(), **kwargs)  # type: ignore[arg-type]


def header_charset(resp: httpx.Response) -> str | None:
    match = _HEADER_CHARSET.search(resp.headers.get("content-type", ""))
    return match.group(1).lower() if match else None


def meta_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:2048])
    return match.group(1).decode().lower() if match else None


# as browsers (WHATWG) and w3lib do: a "gb2312" label means GBK, decoded as its superset GB18030.
# Python's own gb2312 codec would turn 0xA1AA (—, U+2014) into U+2015.
CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030"}


def decode(resp: httpx.Response) -> str:
    """Decode as a browser would: header charset, else the <meta> charset, else UTF-8."""
    charset = header_charset(resp) or meta_charset(resp.content) or "utf-8"
    return resp.content.decode(CHARSET_ALIASES.get(charset, charset))


def visible_text(markup: str) -> str:
    """Text of an HTML page with entities resolved (``&#8194;`` → U+2002), scripts dropped."""
    tree = lxml.html.fromstring(markup)
    for bad in tree.xpath("//script|//style"):
        bad.drop_tree()
    return html.unescape(tree.text_content())


def page(server: ReplicaServer, portal_id: str, path: str, **kwargs: object) -> httpx.Response:
    with client() as c:
        return c.get(server.urls[portal_id] + path, **kwargs)  # type: ignore[arg-type]


def doc_url(server: ReplicaServer, doc_id: int, variant: str | None = None) -> str:
    world = server.world
    urls = world.urls(doc_id)
    return server.urls[world.doc(doc_id).portal_id] + urls[variant or next(iter(urls))]


def admin(server: ReplicaServer, method: str, path: str, body: object | None = None) -> httpx.Response:
    with client() as c:
        resp = c.request(method, server.admin_url + path, json=body)
    resp.raise_for_status()
    return resp


def assert_in_order(text: str, parts: Iterable[str]) -> None:
    """Every part occurs in ``text``, each after the previous one."""
    at = 0
    for part in parts:
        found = text.find(part, at)
        assert found >= 0, f"{part[:40]!r} not found (in order) after offset {at}"
        at = found + len(part)


ARTICLE_LINKS = {
    "fujian_xiamen": re.compile(r'href="\./(\d{6}/t\d{8}_\d+\.htm)"'),
    "fujian_ningde": re.compile(r'href="\./(\d{6}/t\d{8}_\d+)(?:_wap)?\.htm"'),  # some list the mobile copy
    "guangdong_zhongshan": re.compile(r'href="(/ybj/[\w/]+/content/post_\d+\.html)"'),
    "sichuan": re.compile(r'href="(/scylbzj/c\d{6}/\d{4}/\d{1,2}/\d{1,2}/[0-9a-f]{32}\.shtml)"'),
    "nhsa": re.compile(r"href='((?:/col/col\d+)?/art/\d{4}/(?:\d{1,2}/\d{1,2}/art_\d+_\d+|art_[0-9a-f]{32})\.html)'"),
}


def article_paths(portal_id: str, column_path: str, markup: str) -> list[str]:
    """Article paths listed on a column page, in order, as absolute paths."""
    found = ARTICLE_LINKS[portal_id].findall(markup)
    if portal_id.startswith("fujian_"):
        base = column_path.rsplit("/", 1)[0] + "/"
        return [base + (p if p.endswith(".htm") else p + ".htm") for p in found]  # the desktop page
    return found
