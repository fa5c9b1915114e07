"""ArchiveRecordPipeline: store records and fetch outcomes (one transaction per page).

Documents and 304s are written as they arrive. Gone URLs are only noted here and handed to the
run recorder, which counts them after the run has been judged healthy (an unhealthy run never
withdraws anything). Every event is routed to the config's watchers (``alerts.routing``): its outbox
rows are written in the event's own transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from alerts.routing import router_for_crawler
from crawler.dbpath import archive_path
from crawler.items import FetchOutcome
from crawler.runcontext import run_context
from storage import record, touch


class ArchiveRecordPipeline:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> ArchiveRecordPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.ctx = run_context(self.crawler, archive_path(self.crawler.settings))
        self.on_event = router_for_crawler(self.crawler)

    def process_item(self, item: Any) -> Any:
        stats = self.crawler.stats
        now = datetime.now(UTC)
        if isinstance(item, FetchOutcome):
            if item.outcome == "not_modified":
                touch(self.ctx.db, item.url, run_id=self.ctx.run_id, now=now, on_event=self.on_event)
                stats.inc_value("yibao/not_modified")
            elif item.outcome == "gone":
                self.ctx.gone.append(item.url)
                stats.inc_value("yibao/gone")
            else:
                stats.inc_value("yibao/failed_fetches")  # the spider counted the error itself
            return item
        if not isinstance(item, tuple):
            return item
        page, rec = item
        event = record(self.ctx.db, rec, run_id=self.ctx.run_id, now=now, etag=page.etag,
                       last_modified=page.last_modified, column=page.column, on_event=self.on_event)
        stats.inc_value("yibao/documents")
        if event is not None:
            stats.inc_value(f"yibao/events/{event.kind}")
        self.ctx.record_coverage(rec)
        return item
