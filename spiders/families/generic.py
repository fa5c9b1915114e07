"""The generic family: list and detail pages described by CSS selectors in the registry entry.

``options``: ``link`` (anchors of articles on a list page, required), ``body`` (the article
container, required), and optionally ``title``, ``date`` and ``next_page`` (the anchor of the next
list page).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin

import scrapy
from lxml import html as lxml_html
from parsel import Selector
from scrapy.http import Response

from core.records import RawPage
from crawler.registry import Column
from spiders.base import PortalSpider


class GenericSpider(PortalSpider):
    family = "generic"

    def parse_list(self, response: Response, column: Column, page: int) -> Iterator[Any]:
        sel = Selector(text=response.text)
        opts = self.portal.options
        entries = []
        for a in sel.css(opts["link"]):
            href = a.attrib.get("href")
            if href:
                title = (a.attrib.get("title") or " ".join(a.css("::text").getall())).strip()
                entries.append((urljoin(response.url, href), {"title": title}))
        nxt = None
        if opts.get("next_page"):
            href = sel.css(opts["next_page"]).attrib.get("href")
            if href:
                nxt = scrapy.Request(urljoin(response.url, href), callback=self.parse_list,
                                     cb_kwargs={"column": column, "page": page + 1})
        yield from self.follow_listing(column, page, entries, nxt)

    def enrich(self, page: RawPage, response: Any, sel: Selector) -> None:
        opts = self.portal.options
        found = sel.css(opts["body"])
        if found and not isinstance(found[0].root, str):  # the container itself, serialised once
            page.body_html = lxml_html.tostring(found[0].root, encoding="unicode", with_tail=False)
        elif found and (html := found.get()):  # a text or attribute selector: its text, as markup
            page.body_html = lxml_html.tostring(lxml_html.fromstring(html), encoding="unicode")
        if opts.get("title"):
            page.title = _text(sel, opts["title"]) or page.title
        if opts.get("date"):
            page.listing.setdefault("date", _text(sel, opts["date"]))


def _text(sel: Selector, css: str) -> str:
    """The text a selector picks: its elements' text, or the values of ``…::text`` / ``…::attr(name)``.

    (Appending ``" ::text"`` to the option broke comma lists and was a syntax error after a pseudo-element.)
    """
    found = sel.css(css)
    values = found.getall() if "::" in css else found.xpath(".//text()").getall()
    return " ".join(v.strip() for v in values if v.strip())
