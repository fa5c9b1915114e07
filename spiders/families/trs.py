"""Family A: TRS WCM static lists (``index.htm``, ``index_1.htm`` …; ``tYYYYMMDD_<id>.htm`` articles).

List links are found by the article URL pattern, the page count by the ``createPageHTML`` pager
script (first argument = pages, second = current 0-based page), whatever the list's markup.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from parsel import Selector
from scrapy.http import Response

from crawler.registry import Column
from spiders.base import PortalSpider
from spiders.listing import link_entries

ARTICLE = re.compile(r"/t\d{8}_\d+\.s?html?$")
PAGER = re.compile(r"createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*[\"'](\w+)[\"']\s*,\s*[\"'](\w+)[\"']")


class TrsSpider(PortalSpider):
    family = "trs"

    def parse_list(self, response: Response, column: Column, page: int) -> Iterator[Any]:
        sel = Selector(text=response.text)
        entries = link_entries(sel, response.url, ARTICLE)
        yield from self.follow_listing(column, page, entries, self.next_page(response, column, page))

    def next_page(self, response: Response, column: Column, page: int) -> scrapy.Request | None:
        match = PAGER.search(response.text)
        if not match:
            return None
        pages, current, name, ext = int(match[1]), int(match[2]), match[3], match[4]
        if current + 1 >= pages:
            return None
        url = urljoin(response.url, f"{name}_{current + 1}.{ext}")
        return scrapy.Request(url, callback=self.parse_list, cb_kwargs={"column": column, "page": page + 1})
