"""ArchiveRecordPipeline: store documents and fetch outcomes, several pages per write transaction.

Items wait in memory until ``YIBAO_STORE_BATCH`` of them have arrived, the first of them has waited
``YIBAO_STORE_BATCH_SECONDS``, or the crawl has nothing else to do (no request downloading or scheduled,
no response waiting to be parsed: every ``IDLE_CHECK_SECONDS`` while items wait; a crawl's last batch
used to wait out the whole second); then ``storage.archive.record_batch`` writes them in one ``BEGIN IMMEDIATE``
transaction, opened and committed within that one call (never across the reactor's turns, so another crawl
in the process never waits on it). An item is passed on (to the feed exports) only once its batch is
committed, and counted in the stats then.

Crash safety is unchanged: a kill before the commit loses the batch as a whole (documents, versions,
events and their outbox rows alike), which the rerun fetches again as it would any page not yet stored; a
page that fails on its own (a bad record, a router that raises) fails alone (``record_batch`` then stores
the batch page by page). With ``YIBAO_STORE_BATCH = 1`` every page is its own transaction, written as it
arrives.

Gone URLs are only noted here and handed to the run recorder, which counts them after the run has been
judged healthy (an unhealthy run never withdraws anything). Every event goes to the crawl's event router
(``YIBAO_EVENT_ROUTER``, see ``crawler.runcontext.event_router``): its outbox rows are written in the
event's own transaction.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from scrapy.crawler import Crawler

from crawler.dbpath import archive_path
from crawler.items import DocumentItem, FetchOutcome
from crawler.runcontext import event_router, run_context
from storage.archive import Fetched, record_batch
from storage.events import Event

IDLE_CHECK_SECONDS = 0.05


class ArchiveRecordPipeline:
    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.pending: list[tuple[DocumentItem | FetchOutcome, asyncio.Future[Any] | None]] = []
        self.timer: asyncio.TimerHandle | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchiveRecordPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.ctx = run_context(self.crawler, archive_path(self.crawler.settings))
        self.on_event = event_router(self.crawler)
        self.stats = self.crawler.stats
        self.batch_size = max(1, self.crawler.settings.getint("YIBAO_STORE_BATCH"))
        self.batch_seconds = self.crawler.settings.getfloat("YIBAO_STORE_BATCH_SECONDS")

    def close_spider(self) -> None:
        self.flush()

    async def process_item(self, item: Any) -> Any:
        if not isinstance(item, DocumentItem | FetchOutcome):
            return item
        loop = _running_loop()
        if self.batch_size == 1 or loop is None:
            self.pending.append((item, None))
            self.flush()
            return item
        future: asyncio.Future[Any] = loop.create_future()
        self.pending.append((item, future))
        if len(self.pending) >= self.batch_size:
            self.flush()
        elif self.timer is None:
            self.timer = loop.call_later(min(IDLE_CHECK_SECONDS, self.batch_seconds), self.tick, loop.time())
        return await future

    def tick(self, since: float) -> None:
        """While items wait: write them once the oldest has waited ``batch_seconds``, or at once when
        nothing else can bring another item soon."""
        self.timer = None
        loop = _running_loop()
        if loop is None or loop.time() - since >= self.batch_seconds or self.crawl_is_idle():
            self.flush()
        elif self.pending:
            self.timer = loop.call_later(IDLE_CHECK_SECONDS, self.tick, since)

    def crawl_is_idle(self) -> bool:
        """No request downloading or scheduled, no start request left, no response waiting for its
        callback: the waiting items are all the crawl will bring until they are written. (Scrapy's own
        ``spider_is_idle`` is False meanwhile: the waiting items' responses count as being scraped.)"""
        engine = self.crawler.engine
        if engine is None or engine.downloader.active or getattr(engine, "_start", None) is not None:
            return False
        scheduler = engine.scheduler
        if scheduler is None or scheduler.has_pending_requests():
            return False
        slot = engine.scraper.slot
        return slot is None or not slot.queue

    def flush(self) -> None:
        """Write the waiting items in one transaction; resolve each item's future with its outcome."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if not batch:
            return
        stored = [(n, page) for n, (item, _) in enumerate(batch) if (page := self.fetched(item)) is not None]
        outcomes: list[Event | BaseException | None] = [None] * len(batch)
        if stored:
            results = record_batch(self.ctx.db, [page for _, page in stored], run_id=self.ctx.run_id,
                                   now=datetime.now(UTC), on_event=self.on_event)  # fmt: skip
            for (n, _), result in zip(stored, results, strict=True):
                outcomes[n] = result
        failed: BaseException | None = None
        for (item, future), outcome in zip(batch, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if future is not None and not future.done():
                    future.set_exception(outcome)
                failed = failed or outcome
                continue
            self.count(item, outcome)
            if future is not None and not future.done():
                future.set_result(item)
        if failed is not None and batch[0][1] is None:  # written at once: the caller sees the error
            raise failed

    @staticmethod
    def fetched(item: DocumentItem | FetchOutcome) -> Fetched | None:
        """What the archive stores of an item: a document, a 304's touch, or nothing (gone and errors are
        settled by the run recorder)."""
        if isinstance(item, DocumentItem):
            return Fetched(item.record.url, item.record, item.etag, item.last_modified, item.column)
        if item.outcome == "not_modified":
            return Fetched(item.url)
        return None

    def count(self, item: DocumentItem | FetchOutcome, event: Event | None) -> None:
        """The stats and run context of a stored item (after its batch committed)."""
        stats = self.stats
        if event is not None:
            stats.inc_value(f"yibao/events/{event.kind}")
        if isinstance(item, DocumentItem):
            stats.inc_value("yibao/documents")
            self.ctx.record_coverage(item.record)
        elif item.outcome == "not_modified":
            stats.inc_value("yibao/not_modified")
        elif item.outcome == "gone":
            self.ctx.gone.append(item.url)
            stats.inc_value("yibao/gone")
        else:
            stats.inc_value("yibao/failed_fetches")  # the spider counted the error itself


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:  # not under the asyncio reactor: no batching
        return None
