"""Family B: Sichuan ``.shtml`` columns (``list.shtml``, ``list_2.shtml``; ``/YYYY/M/D/<32hex>.shtml``).

The pager is ``createPageHTML('page_div', pages, current, 'list', 'shtml', records)`` with a
1-based current page; the next page is ``<name>_<current + 1>.<ext>``.
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

ARTICLE = re.compile(r"/\d{4}/\d{1,2}/\d{1,2}/[0-9a-f]{32}\.shtml$")
PAGER = re.compile(r"createPageHTML\(\s*'[\w-]+'\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*'(\w+)'\s*,\s*'(\w+)'")


class SichuanSpider(PortalSpider):
    family = "sichuan"

    def parse_list(self, response: Response, column: Column, page: int) -> Iterator[Any]:
        sel = Selector(text=response.text)
        entries = link_entries(sel, response.url, ARTICLE)
        yield from self.follow_listing(column, page, entries, self.next_page(response, column, page))

    def next_page(self, response: Response, column: Column, page: int) -> scrapy.Request | None:
        match = PAGER.search(response.text)
        if not match:
            return None
        pages, current, name, ext = int(match[1]), int(match[2]), match[3], match[4]
        if current >= pages:
            return None
        url = urljoin(response.url, f"{name}_{current + 1}.{ext}")
        return scrapy.Request(url, callback=self.parse_list, cb_kwargs={"column": column, "page": page + 1})
