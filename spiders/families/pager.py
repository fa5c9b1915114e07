"""Static list pages whose page count is written into a ``createPageHTML(...)`` pager script.

Shared by the TRS and Sichuan families: article links are found by the family's URL pattern and
the next page's URL is derived from the pager's arguments by ``next_page_name``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, ClassVar
from urllib.parse import urljoin

import scrapy
from parsel import Selector
from scrapy.http import Response

from crawler.registry import Column
from spiders.base import PortalSpider
from spiders.listing import link_entries


class PagerScriptSpider(PortalSpider):
    article: ClassVar[re.Pattern[str]]
    pager: ClassVar[re.Pattern[str]]  # groups: pages, current, name, ext

    def parse_list(self, response: Response, column: Column, page: int) -> Iterator[Any]:
        entries = link_entries(Selector(text=response.text), response.url, self.article)
        yield from self.follow_listing(column, page, entries, self.next_page(response, column, page))

    def next_page(self, response: Response, column: Column, page: int) -> scrapy.Request | None:
        match = self.pager.search(response.text)
        if not match:
            return None
        name = self.next_page_name(int(match[1]), int(match[2]), match[3], match[4])
        if name is None:
            return None
        return scrapy.Request(urljoin(response.url, name), callback=self.parse_list,
                              cb_kwargs={"column": column, "page": page + 1})

    @staticmethod
    def next_page_name(pages: int, current: int, name: str, ext: str) -> str | None:
        raise NotImplementedError
