"""ArchiveRecordPipeline: store documents and fetch outcomes (one transaction per page).

Documents and 304s are written as they arrive. Gone URLs are only noted here and handed to the
run recorder, which counts them after the run has been judged healthy (an unhealthy run never
withdraws anything). Every event goes to the crawl's event router (``YIBAO_EVENT_ROUTER``, see
``crawler.runcontext.event_router``): its outbox rows are written in the event's own transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import Crawler

from crawler.dbpath import archive_path
from crawler.items import DocumentItem, FetchOutcome
from crawler.runcontext import event_router, run_context
from storage import record, touch


class ArchiveRecordPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveRecordPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.ctx = run_context(self.crawler, archive_path(self.crawler.settings))
        self.on_event = event_router(self.crawler)
        self.stats = self.crawler.stats

    def process_item(self, item: Any) -> Any:
        stats = self.stats
        if isinstance(item, DocumentItem):
            event = record(self.ctx.db, item.record, run_id=self.ctx.run_id, now=datetime.now(UTC),
                           etag=item.etag, last_modified=item.last_modified, column=item.column,
                           on_event=self.on_event)
            stats.inc_value("yibao/documents")
            if event is not None:
                stats.inc_value(f"yibao/events/{event.kind}")
            self.ctx.record_coverage(item.record)
        elif isinstance(item, FetchOutcome):
            if item.outcome == "not_modified":
                touch(self.ctx.db, item.url, run_id=self.ctx.run_id, now=datetime.now(UTC), on_event=self.on_event)
                stats.inc_value("yibao/not_modified")
            elif item.outcome == "gone":
                self.ctx.gone.append(item.url)
                stats.inc_value("yibao/gone")
            else:
                stats.inc_value("yibao/failed_fetches")  # the spider counted the error itself
        return item
