"""Family C: Guangdong gkmlpt JSON API plus the NFCMS column layer.

A column URL ``…/gkmlpt/index#<classify>`` is read through ``…/gkmlpt/api/all/<classify>?page=N&sid=…``
(100 a page; ``page=0`` and ``page=1`` are the same; stop on an empty page or when ``total`` is
reached; ``type: "url"`` items are external jumps and skipped). The SID comes from the registry
options or from the index page's ``window._CONFIG``. Any other column URL is an NFCMS column:
``/content/post_<id>.html`` links and ``index_N.html`` pages. The API's structured fields
(索引号, 文号, publisher, dates, is_abolished) travel with the page as its listing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from parsel import Selector
from scrapy.http import Response

from core.records import RawPage
from crawler.registry import Column
from spiders.base import PortalSpider
from spiders.listing import link_entries

POST = re.compile(r"/content/(?:\d+/\d+/)?post_\d+\.html$")
SID = re.compile(r"SID\s*[:=]\s*['\"]?(\d+)")
NEXT = re.compile(r"index_(\d+)\.html$")
API_FIELDS = ("identifier", "document_number", "publisher", "date", "create_time", "is_abolished", "is_expired",
              "classify_main_name")


class GkmlptSpider(PortalSpider):
    family = "gkmlpt"

    def column_requests(self, column: Column) -> Iterable[scrapy.Request]:
        if "/gkmlpt/" not in column.url:
            yield from super().column_requests(column)
            return
        base, _, classify = column.url.partition("#")
        sid = self.portal.options.get("sid")
        if sid:
            yield self.api_request(base, classify or "0", str(sid), column, 1)
        else:
            yield scrapy.Request(base, callback=self.parse_index, cb_kwargs={"column": column, "classify": classify},
                                 dont_filter=True)

    def api_request(self, index_url: str, classify: str, sid: str, column: Column, page: int) -> scrapy.Request:
        url = urljoin(index_url, f"api/all/{classify}?page={page}&sid={sid}")
        return scrapy.Request(url, callback=self.parse_api, dont_filter=page == 1,
                              cb_kwargs={"column": column, "page": page, "index_url": index_url,
                                         "classify": classify, "sid": sid, "seen": 0})

    def parse_index(self, response: Response, column: Column, classify: str) -> Iterator[Any]:
        match = SID.search(response.text)
        if not match:
            self.crawler.stats.inc_value("yibao/errors/no_sid")
            return
        yield self.api_request(response.url, classify or "0", match[1], column, 1)

    def parse_api(self, response: Response, column: Column, page: int, index_url: str, classify: str,
                  sid: str, seen: int) -> Iterator[Any]:
        try:
            data = json.loads(response.text)
        except ValueError:
            self.crawler.stats.inc_value("yibao/errors/bad_json")
            return
        articles = data.get("articles") or []
        entries = []
        for art in articles:
            if art.get("type", "normal") != "normal" or not art.get("url"):
                continue
            listing = {"title": art.get("title", ""), **{k: art.get(k) for k in API_FIELDS if k in art}}
            entries.append((urljoin(response.url, art["url"]), listing))
        total = int(data.get("total") or 0)
        seen += len(entries)
        nxt = None
        if articles and seen < total:
            nxt = self.api_request(index_url, classify, sid, column, page + 1)
            nxt.cb_kwargs["seen"] = seen
        yield from self.follow_listing(column, page - 1, entries, nxt)

    def parse_list(self, response: Response, column: Column, page: int) -> Iterator[Any]:
        sel = Selector(text=response.text)
        entries = link_entries(sel, response.url, POST)
        nxt = None
        wanted = f"index_{page + 2}.html"
        for href in sel.xpath("//a/@href").getall():
            if href.split("/")[-1] == wanted:
                nxt = scrapy.Request(urljoin(response.url, href), callback=self.parse_list,
                                     cb_kwargs={"column": column, "page": page + 1})
                break
        yield from self.follow_listing(column, page, entries, nxt)

    def enrich(self, page: RawPage, response: Any, sel: Selector) -> None:
        """Strip the 【tag】 only in normalize; here: prefer the listing's API fields when present."""
        if page.listing.get("title") and not page.title:
            page.title = page.listing["title"]
