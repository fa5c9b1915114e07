"""The yardstick: a bare Scrapy list → detail spider for the benchmark portal (``benchmarks.bench_portal``).

What any Scrapy user would write first: follow the list's article links and its next-page link, take the
title, date and body text of each detail page with CSS selectors, yield a dict (to nowhere). The same
politeness-off settings as ``yibao crawl --fast`` (8 concurrent requests to the one host, no delay, robots.txt
obeyed), so the benchmark compares the work per page, not the settings.

    python -m benchmarks.bare_spider http://127.0.0.1:8190/xxgk/index.html
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.http import Response

SETTINGS = {
    "ROBOTSTXT_OBEY": True,
    "CONCURRENT_REQUESTS": 8,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 8,
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "TELNETCONSOLE_ENABLED": False,
    "LOG_LEVEL": "WARNING",
    "USER_AGENT": "bench-bare-spider",
}


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, start_url: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.start_url = start_url

    async def start(self) -> AsyncIterator[Any]:
        yield scrapy.Request(self.start_url, callback=self.parse_list)

    def parse_list(self, response: Response) -> Iterator[Any]:
        for href in response.css("ul.list li a::attr(href)").getall():
            yield response.follow(href, callback=self.parse_detail)
        nxt = response.css("a.next::attr(href)").get()
        if nxt:
            yield response.follow(nxt, callback=self.parse_list)

    def parse_detail(self, response: Response) -> Iterator[dict[str, Any]]:
        yield {
            "url": response.url,
            "title": response.css("h1.title::text").get(),
            "date": response.css("meta[name=PubDate]::attr(content)").get(),
            "body": "\n".join(t.strip() for t in response.css("div.article-body ::text").getall() if t.strip()),
        }


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    process = CrawlerProcess(SETTINGS)
    process.crawl(BareSpider, start_url=args[0])
    process.start()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
