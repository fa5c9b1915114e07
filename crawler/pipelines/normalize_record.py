"""NormalizeRecordPipeline: ``RawPage`` → ``DocumentItem`` (the record from the pure ``core.normalize``)."""

from __future__ import annotations

from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from core.normalize import build_record
from core.records import RawPage
from crawler.items import DocumentItem
from crawler.runcontext import portal_spider


class NormalizeRecordPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NormalizeRecordPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        portal = portal_spider(self.crawler).portal
        self.bureau, self.region_code = portal.name, portal.region_code

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawPage):
            return item
        try:
            record = build_record(item, bureau=self.bureau, region_code=self.region_code)
        except Exception as exc:  # one unparseable page is an error in the run, never a crash
            self.crawler.stats.inc_value("yibao/errors/normalize")
            raise DropItem(f"cannot normalize {item.url}: {exc!r}") from exc
        return DocumentItem(url=item.url, portal=item.portal_id, column=item.column, status=item.status,
                            fetched_at=item.fetched_at, etag=item.etag, last_modified=item.last_modified,
                            record=record)
