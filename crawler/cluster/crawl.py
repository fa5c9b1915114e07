"""Inside a worker's crawl process (``crawler.cluster.settings``): the same portal spider, pipelines and
middlewares as a local crawl, with four pieces swapped so that the process never opens the archive.

- ``ClusterSpiderLoader``: the registry's spider, started from the crawl state the archive's host put in Redis
  for this job (``CrawlSnapshot``: known postings with their ETag / Last-Modified, the run history), so the
  revisit plan and the conditional GETs are those a local crawl would make. A known page's stored attachments
  are read from Redis as well (``yibao:attachments:<portal>``, kept by the writer).
- ``JobQueue``: scrapy-redis's request queue (LIFO, as Scrapy's own memory queue) under the portal's key, with
  scrapy-redis's scheduler and duplicate filter; one job per portal at a time, so the portal's politeness
  (one downloader slot per host, robots.txt, AutoThrottle, the offsite rules) is exactly a local crawl's.
- ``StreamPipeline`` in place of the archive pipeline: every document and 304 goes to the stream
  ``yibao:items`` as it comes; gone URLs and the counts travel with the run's close.
- ``ClusterRunRecorder`` in place of the run recorder: at the end, the run's close (Scrapy's finish reason,
  the stats, the URLs listed, the gone URLs) goes to the stream; the writer judges and records it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from weakref import WeakKeyDictionary

import redis
from scrapy import Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.http import Request
from scrapy_redis.queue import Base
from scrapy_redis.scheduler import Scheduler

from crawler.items import DocumentItem, FetchOutcome
from crawler.middlewares import summary_lines
from crawler.runcontext import RunTally, portal_spider
from crawler.spiderloader import PortalSpiderLoader
from spiders.base import PortalSpider
from spiders.state import CrawlState

from . import messages
from .config import connect

log = logging.getLogger("yibao.cluster")


@dataclass
class JobRun(RunTally):
    """The worker-side state of one job's crawl: what its close message carries beyond Scrapy's stats."""

    job: str
    redis: redis.Redis

    def send(self, kind: str, data: dict[str, Any]) -> None:
        self.redis.xadd(messages.STREAM, messages.encode(kind, self.job, data))  # type: ignore[arg-type]


_RUNS: WeakKeyDictionary[Crawler, JobRun] = WeakKeyDictionary()


def job_run(crawler: Crawler) -> JobRun:
    """This crawl's ``JobRun`` (``YIBAO_CLUSTER_JOB``, ``REDIS_URL``), made on first use."""
    run = _RUNS.get(crawler)
    if run is None:
        job = crawler.settings.get("YIBAO_CLUSTER_JOB")
        url = crawler.settings.get("REDIS_URL")
        if not job or not url:
            raise NotConfigured("a worker's crawl needs YIBAO_CLUSTER_JOB and REDIS_URL")
        run = _RUNS[crawler] = JobRun(str(job), connect(str(url)))
    return run


# --- the spider -----------------------------------------------------------------------------------------------


@dataclass
class RedisCrawlState(CrawlState):
    """``CrawlState`` from a snapshot; a known page's stored attachments come from Redis, not the archive."""

    redis: Any = None
    portal_id: str = ""

    def stored_attachments(self, url: str) -> dict[str, dict[str, Any]]:
        if url not in self.known or self.redis is None:
            return {}
        raw = self.redis.hget(messages.attachments_key(self.portal_id), url)
        if not raw:
            return {}
        return {a["url"]: a for a in messages.unpack_attachments(raw) if a.get("url")}


def snapshot_state(crawler: Crawler, portal_id: str) -> RedisCrawlState:
    run = job_run(crawler)
    blob: Any = run.redis.get(messages.state_key(run.job))
    if blob is None:
        raise CloseSpider("no crawl state in Redis for this job (expired?)")
    snapshot = messages.CrawlSnapshot.loads(blob)
    return RedisCrawlState(snapshot.known, snapshot.history, redis=run.redis, portal_id=portal_id)


class ClusterSpider(PortalSpider):
    """Put first in the bases of a registry spider: it reads the crawl state from the job's snapshot in Redis
    instead of the archive."""

    def load_crawl_state(self) -> CrawlState:
        return snapshot_state(self.crawler, self.portal.id)


class ClusterSpiderLoader(PortalSpiderLoader):
    """The registry's spiders (bespoke or family), each with ``ClusterSpider`` first in its bases."""

    def load(self, spider_name: str) -> type[Spider]:
        spider = super().load(spider_name)
        if not issubclass(spider, PortalSpider):
            return spider
        return type(spider.__name__, (ClusterSpider, spider), {})


# --- the request queue ----------------------------------------------------------------------------------------


# pop: the highest priority first; within one, other requests newest first (LIFO), then start requests oldest
# first (FIFO) -- the order of Scrapy's own scheduler (ScrapyPriorityQueue with its start queues)
_POP = """
for _, prio in ipairs(redis.call('zrange', KEYS[1], 0, -1)) do
  local found = redis.call('lpop', ARGV[1] .. ':r:' .. prio)
  if found then return found end
  found = redis.call('rpop', ARGV[1] .. ':s:' .. prio)
  if found then return found end
  redis.call('zrem', KEYS[1], prio)
end
return false
"""


class JobQueue(Base):
    """A scrapy-redis queue (``SCHEDULER_QUEUE_CLASS``) in Scrapy's own order: by priority, then the other
    requests LIFO and the start requests FIFO, so that a worker's crawl fetches in the order a local crawl does
    (which posting of a document is seen first depends on it). One Redis list per priority and kind, and a
    sorted set of the priorities in use. Requests are encoded against the spider's callbacks only:
    ``Request.to_dict(spider=...)`` otherwise walks every attribute of the spider for each request."""

    _callbacks: SimpleNamespace | None = None

    def _encode_request(self, request: Request) -> Any:
        if self._callbacks is None:
            spider = self.spider
            names = [n for n in dir(type(spider)) if n.startswith("parse") or n.endswith("_failed")]
            self._callbacks = SimpleNamespace(**{n: getattr(spider, n) for n in names})
        return self.serializer.dumps(request.to_dict(spider=self._callbacks))  # type: ignore[arg-type]

    def _list(self, prio: int | bytes | str, start: bool) -> str:
        prio = prio.decode() if isinstance(prio, bytes) else prio
        return f"{self.key}:{'s' if start else 'r'}:{prio}"

    def _prios(self) -> list[bytes]:
        prios: list[bytes] = self.server.zrange(f"{self.key}:prios", 0, -1)
        return prios

    def __len__(self) -> int:
        return sum(int(self.server.llen(self._list(p, s))) for p in self._prios() for s in (False, True))

    def push(self, request: Request) -> None:
        start = bool(request.meta.get("is_start_request", False))
        self.server.lpush(self._list(request.priority, start), self._encode_request(request))
        self.server.zadd(f"{self.key}:prios", {str(request.priority): -request.priority})

    def pop(self, timeout: int = 0) -> Request | None:
        data = self.server.eval(_POP, 1, f"{self.key}:prios", self.key)
        return self._decode_request(data) if data else None

    def clear(self) -> None:
        keys = [self._list(p, s) for p in self._prios() for s in (False, True)]
        self.server.delete(f"{self.key}:prios", *keys)


class JobScheduler(Scheduler):
    """scrapy-redis's scheduler, counting in the crawl's stats as Scrapy's own does (without the ``spider``
    argument Scrapy 2.19 deprecates)."""

    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        self.queue.push(request)
        return True

    def next_request(self) -> Request | None:
        request: Request | None = self.queue.pop(self.idle_before_close)
        if request is not None and self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        return request


# --- items and the run's close --------------------------------------------------------------------------------


class StreamPipeline:
    """Documents and 304s to the stream as they come (the writer stores them with ``record_batch``); the counts
    a local run keeps (documents, 304s, gone, failed fetches, coverage) are kept here for the close."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StreamPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.run = job_run(self.crawler)
        self.stats = self.crawler.stats

    def process_item(self, item: Any) -> Any:
        stats = self.stats
        if isinstance(item, DocumentItem):
            self.run.send(messages.DOC, messages.doc_message(item.record.url, item.record, column=item.column,
                                                             etag=item.etag, last_modified=item.last_modified))
            stats.inc_value("yibao/documents")
            self.run.record_coverage(item.record)
        elif isinstance(item, FetchOutcome):
            if item.outcome == "not_modified":
                self.run.send(messages.TOUCH, {"url": item.url})
                stats.inc_value("yibao/not_modified")
            elif item.outcome == "gone":
                self.run.gone.append(item.url)
                stats.inc_value("yibao/gone")
            else:
                stats.inc_value("yibao/failed_fetches")
        return item


class ClusterRunRecorder:
    """Sends the run's close: Scrapy's finish reason and stats, the URLs listed and the gone ones. Judging the
    run (health, baseline, withdrawals) needs the portal's history: the writer does it."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ClusterRunRecorder:
        return cls(crawler)

    def spider_opened(self, spider: Spider) -> None:
        self.crawler.stats.set_value("yibao/job", job_run(self.crawler).job)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        own = portal_spider(self.crawler)
        run = job_run(self.crawler)
        stats = self.crawler.stats.get_stats()
        stats["yibao/coverage"] = {k: round(v / run.records, 3) for k, v in run.coverage.items()} if run.records else {}
        for line in summary_lines(own.portal.id, stats):
            log.warning(line)
        run.send(messages.CLOSE, {"portal": own.portal.id, "reason": reason, "stats": stats,
                                  "listed": sorted(own.listed_urls), "gone": run.gone,
                                  "finished_at": datetime.now(UTC).isoformat()})  # fmt: skip
        run.redis.set(messages.closed_key(run.job), reason, ex=86_400)
