"""The worker's request queue in Redis pops in the order of Scrapy's own scheduler queue (a local crawl's): by
priority, then the other requests newest first, then the start requests oldest first."""

from __future__ import annotations

import random
from typing import Any

import scrapy
from scrapy.pqueues import ScrapyPriorityQueue
from scrapy.squeues import FifoMemoryQueue, LifoMemoryQueue
from scrapy.utils.test import get_crawler
from scrapy_redis import picklecompat

from crawler.cluster.crawl import JobQueue
from tests.e2e.cluster.conftest import RedisServer


class Portal(scrapy.Spider):
    name = "portal"

    def parse(self, response: Any) -> None:
        pass

    def parse_detail(self, response: Any, column: str) -> None:
        pass


def requests() -> list[scrapy.Request]:
    spider = Portal()
    made = []
    for n in range(40):
        start = n % 3 == 0
        request = scrapy.Request(f"http://a.example/{n}", callback=spider.parse if start else spider.parse_detail,
                                 priority=random.Random(n).choice([-1, 0, 0, 0, 2]), dont_filter=True,
                                 cb_kwargs={} if start else {"column": f"c{n}"})  # fmt: skip
        if start:
            request.meta["is_start_request"] = True
        made.append(request)
    return made


def test_the_redis_queue_pops_in_scrapys_order(fresh_redis: RedisServer) -> None:
    spider = Portal()
    redis_queue = JobQueue(fresh_redis.client, spider, "yibao:crawl:%(spider)s:requests", picklecompat)
    crawler = get_crawler(Portal)
    local = ScrapyPriorityQueue.from_crawler(crawler, LifoMemoryQueue, "", start_queue_cls=FifoMemoryQueue)
    batch = requests()
    for request in batch[:25]:  # pushes and pops interleaved, as in a crawl
        redis_queue.push(request)
        local.push(request)
    order_redis = [redis_queue.pop().url for _ in range(10)]
    order_local = [local.pop().url for _ in range(10)]
    for request in batch[25:]:
        redis_queue.push(request)
        local.push(request)
    assert len(redis_queue) == len(local) == 30
    while len(local):
        order_local.append(local.pop().url)
        order_redis.append(redis_queue.pop().url)
    assert order_redis == order_local
    assert redis_queue.pop() is None
    assert len(redis_queue) == 0
    # callbacks and their arguments survive the trip
    redis_queue.push(batch[1])
    back = redis_queue.pop()
    assert back.callback == spider.parse_detail
    assert back.cb_kwargs == {"column": "c1"}
    redis_queue.push(batch[2])
    redis_queue.clear()
    assert len(redis_queue) == 0
    assert not fresh_redis.client.keys("yibao:crawl:portal:*")
