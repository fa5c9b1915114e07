"""Downloader middlewares."""

from __future__ import annotations

import re
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

CHALLENGE = re.compile(rb"\$_ts|__jsluid|document\.cookie\s*=|yunsuo_session_verify")


class BlockedPageMiddleware:
    """A WAF / JS-challenge answer (412 with ``$_ts``, 521, cookie-setting script pages) is recorded as a
    blocked fetch and never parsed as a document. We do not try to defeat it."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> BlockedPageMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        blocked = response.status in (412, 521) or (
            response.status in (200, 403) and len(response.body) < 4096 and CHALLENGE.search(response.body)
        )
        if response.status == 403 and b"\xe8\xae\xbf\xe9\x97\xae\xe8\xbf\x87\xe4\xba\x8e\xe9\xa2\x91\xe7\xb9\x81" in response.body:
            blocked = True  # 访问过于频繁: a rate-limit ban
        if blocked:
            self.crawler.stats.inc_value("yibao/blocked")
            self.crawler.stats.inc_value(f"yibao/blocked/{response.status}")
            raise IgnoreRequest(f"blocked by the site ({response.status}): {request.url}")
        return response
