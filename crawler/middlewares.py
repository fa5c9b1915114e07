"""Downloader middlewares."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

CHALLENGE = re.compile(rb"\$_ts|__jsluid|document\.cookie\s*=|yunsuo_session_verify")


class BlockedPageMiddleware:
    """A WAF / JS-challenge answer (412 with ``$_ts``, 521, cookie-setting script pages) is recorded as a
    blocked fetch and never parsed as a document. We do not try to defeat it."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BlockedPageMiddleware:
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


LATIN_DEFAULTS = {"iso-8859-1", "latin-1", "latin1", "ascii", "us-ascii", "windows-1252", "cp1252"}


class EncodingRepairMiddleware:
    """Pages whose Content-Type charset is a Western default (ISO-8859-1, ASCII…) or wrong are
    re-decoded: the charset declared in ``<meta>``, else UTF-8 if the bytes are valid UTF-8, else
    GB18030 (a superset of GBK/GB2312). Chinese government pages are never Latin-1."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> EncodingRepairMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        from scrapy.http import TextResponse
        from w3lib.encoding import html_body_declared_encoding, resolve_encoding

        if not isinstance(response, TextResponse) or not response.body:
            return response
        header = (response.headers.get(b"Content-Type") or b"").decode("latin-1").lower()
        declared = header.split("charset=", 1)[1].strip(" ;\"'") if "charset=" in header else None
        if declared is None or resolve_encoding(declared) not in {resolve_encoding(c) or c for c in LATIN_DEFAULTS}:
            return response
        encoding = html_body_declared_encoding(response.body)
        if encoding is None:
            try:
                response.body.decode("utf-8")
                encoding = "utf-8"
            except UnicodeDecodeError:
                encoding = "gb18030"
        self.crawler.stats.inc_value("yibao/encoding_repaired")
        return response.replace(encoding=encoding)


class PortalHostsMiddleware:
    """Only the portal's own host:port pairs are ever requested — redirects included (Scrapy's offsite
    check compares host names only and is skipped for ``dont_filter`` requests)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PortalHostsMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        allowed = getattr(self.crawler.spider, "allowed_netlocs", None)
        if allowed and urlsplit(request.url).netloc not in allowed:
            self.crawler.stats.inc_value("yibao/offsite_skipped")
            raise IgnoreRequest(f"not a host of this portal: {request.url}")
