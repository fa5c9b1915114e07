"""The state of one crawl run shared by the archive pipeline and the run recorder: the archive, the
run row, the gone URLs and coverage counts, and the event router (``YIBAO_EVENT_ROUTER``)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from weakref import WeakKeyDictionary

import sqlite_utils
from scrapy.crawler import Crawler
from scrapy.utils.misc import load_object

from core.records import DocumentRecord
from spiders.base import PortalSpider
from storage import open_db, start_run, sync_portals
from storage.archive import OnEvent

COVERAGE_FIELDS = ("title", "kind", "published_on", "body_text", "doc_no", "index_no", "meeting", "deputies")

RouterFactory = Callable[[Crawler], OnEvent | None]


@dataclass(kw_only=True)
class RunTally:
    """What a run's close reports beyond Scrapy's stats: the URLs found gone, and how many records had each
    field (the coverage the health check compares with the portal's history). A local crawl keeps it in its
    ``RunContext``, a scale-out worker in its ``crawler.cluster.crawl.JobRun``."""

    gone: list[str] = field(default_factory=list)
    records: int = 0
    coverage: Counter[str] = field(default_factory=Counter)

    def record_coverage(self, rec: DocumentRecord) -> None:
        self.records += 1
        for name in COVERAGE_FIELDS:
            if getattr(rec, name):
                self.coverage[name] += 1


@dataclass
class RunContext(RunTally):
    db: sqlite_utils.Database
    run_id: int


_RUNS: WeakKeyDictionary[Crawler, RunContext] = WeakKeyDictionary()
_ROUTERS: WeakKeyDictionary[Crawler, OnEvent | None] = WeakKeyDictionary()


def portal_spider(crawler: Crawler) -> PortalSpider:
    """The crawler's spider, which is a portal spider in this project."""
    spider = crawler.spider
    if not isinstance(spider, PortalSpider):
        raise TypeError(f"not a portal spider: {spider!r}")
    return spider


def run_context(crawler: Crawler, db_path: Path) -> RunContext:
    """The run context of this crawler, created (and the run row opened) on first use."""
    ctx = _RUNS.get(crawler)
    if ctx is not None:
        return ctx
    spider = portal_spider(crawler)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = open_db(db_path)
    sync_portals(db, [spider.portal])
    given = crawler.settings.get("YIBAO_RUN_ID")
    if given:
        ctx = RunContext(db, int(given))
    else:
        ctx = RunContext(db, start_run(db, spider.portal.id, now=datetime.now(UTC), full=spider.full))
    _RUNS[crawler] = ctx
    return ctx


def event_router(crawler: Crawler) -> OnEvent | None:
    """The ``on_event(db, event)`` callback of this crawl, built once: ``YIBAO_EVENT_ROUTER`` (an object
    path or a callable) called with the crawler. Empty or None: no routing. The factory's errors (a bad
    watcher config) propagate, so the recorder calls this at the start of the crawl to fail it there."""
    if crawler in _ROUTERS:
        return _ROUTERS[crawler]
    path = crawler.settings.get("YIBAO_EVENT_ROUTER")
    router = None
    if path:
        factory: RouterFactory = load_object(path)
        router = factory(crawler)
    _ROUTERS[crawler] = router
    return router
