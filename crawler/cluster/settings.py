"""Scrapy settings of a worker's crawl (``SCRAPY_SETTINGS_MODULE=crawler.cluster.settings``): the project's
settings (``crawler.settings``: politeness, robots.txt, retries, middlewares) with the archive swapped out for
Redis (``crawler.cluster.crawl``). ``yibao worker`` passes ``YIBAO_CLUSTER_JOB`` and ``REDIS_URL``."""

import os

from crawler.settings import *  # noqa: F403
from crawler.settings import ITEM_PIPELINES

SPIDER_LOADER_CLASS = "crawler.cluster.crawl.ClusterSpiderLoader"
# scrapy-redis: the request queue (in Scrapy's own order: crawler.cluster.crawl.JobQueue) and the duplicate filter
# in Redis, under the portal's keys (one job per portal at a time); a new crawl starts from an empty queue (what a killed crawl left is dropped), and the queue is
# removed when the crawl ends
SCHEDULER = "crawler.cluster.crawl.JobScheduler"
DUPEFILTER_CLASS = "scrapy_redis.dupefilter.RFPDupeFilter"
SCHEDULER_QUEUE_CLASS = "crawler.cluster.crawl.JobQueue"
SCHEDULER_QUEUE_KEY = "yibao:crawl:%(spider)s:requests"
SCHEDULER_DUPEFILTER_KEY = "yibao:crawl:%(spider)s:dupefilter"
SCHEDULER_FLUSH_ON_START = True
SCHEDULER_PERSIST = False

ITEM_PIPELINES = {
    **{path: order for path, order in ITEM_PIPELINES.items() if not path.endswith(".ArchiveRecordPipeline")},
    "crawler.cluster.crawl.StreamPipeline": 800,
}
EXTENSIONS = {"crawler.cluster.crawl.ClusterRunRecorder": 100}
YIBAO_EVENT_ROUTER = ""  # events are routed by the writer, in the archive's transaction
YIBAO_CLUSTER_JOB = None
REDIS_URL = os.environ.get("YIBAO_REDIS_URL")  # from the worker (not on the command line: it may hold a password)
