"""NormalizeRecordPipeline: RawPage → DocumentRecord (pure ``core.normalize``)."""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import DropItem

from core.normalize import build_record
from core.records import RawPage


class NormalizeRecordPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> NormalizeRecordPipeline:
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, RawPage):
            return item
        portal = self.crawler.spider.portal
        try:
            record = build_record(item, bureau=portal.name, region_code=portal.region_code)
        except Exception as exc:  # one unparseable page is an error in the run, never a crash
            self.crawler.stats.inc_value("yibao/errors/normalize")
            raise DropItem(f"cannot normalize {item.url}: {exc!r}") from exc
        return (item, record)
