"""Family D: Hanweb JCMS column pages with the jpage ``dataproxy.jsp`` XML windows.

The column page embeds the first group of records in ``<datastore>``; ``param_<unit>`` and
``jpage({totalRecord, perPage})`` say how to ask ``dataproxy.jsp`` for the next windows (POST,
1-based inclusive ``startrecord``/``endrecord``). Windows may repeat the previous window's last
record (a look-ahead duplicate): entries are de-duplicated by URL across the whole column.
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

ARTICLE = re.compile(r"/art/\d{4}/(?:\d{1,2}/\d{1,2}/)?art_\w+\.html$")
RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
PARAM = re.compile(r"var\s+param_(\w+)\s*=\s*\{(.*?)\}", re.S)
PAIR = re.compile(r"(\w+)\s*:\s*'?([^,'}]*)'?")
TOTAL = re.compile(r"totalRecord\s*:\s*(\d+)")
PER_PAGE = re.compile(r"perPage\s*:\s*(\d+)")
PROXY = "/module/web/jpage/dataproxy.jsp"
WINDOW = 45


def records_html(text: str) -> str:
    return "<ul>" + "".join(RECORD.findall(text)) + "</ul>"


class HanwebSpider(PortalSpider):
    family = "hanweb"

    def parse_list(self, response: Response, column: Column, page: int) -> Iterator[Any]:
        entries = link_entries(Selector(text=records_html(response.text)), response.url, ARTICLE)
        if not entries:  # some Hanweb sites list /art/ links directly in the page
            entries = link_entries(Selector(text=response.text), response.url, ARTICLE)
        total = TOTAL.search(response.text)
        param = PARAM.search(response.text)
        nxt = None
        if total and param and len(entries) < int(total[1]):
            form = {k: v.strip() for k, v in PAIR.findall(param[2])}
            per = PER_PAGE.search(response.text)
            nxt = self.window_request(response.url, column, form, len(entries) + 1, int(total[1]),
                                      int(per[1]) if per else 15, page + 1)
        yield from self.follow_listing(column, page, entries, nxt)

    def window_request(self, column_url: str, column: Column, form: dict[str, str], start: int, total: int,
                       per: int, page: int) -> scrapy.Request:
        end = min(total, start + WINDOW - 1)
        url = urljoin(column_url, f"{PROXY}?startrecord={start}&endrecord={end}&perpage={per}")
        return scrapy.FormRequest(url, formdata=form, callback=self.parse_window, headers={
            "X-Requested-With": "XMLHttpRequest", "Referer": column_url},
            cb_kwargs={"column": column, "form": form, "start": start, "end": end, "total": total,
                       "per": per, "page": page, "column_url": column_url})

    def parse_window(self, response: Response, column: Column, form: dict[str, str], start: int, end: int,
                     total: int, per: int, page: int, column_url: str) -> Iterator[Any]:
        entries = link_entries(Selector(text=records_html(response.text)), response.url, ARTICLE)
        nxt = None
        if entries and end < total:
            nxt = self.window_request(column_url, column, form, end + 1, total, per, page + 1)
        yield from self.follow_listing(column, page, entries, nxt)
