"""Downloader middlewares."""

from __future__ import annotations

import logging
import re
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

from scrapy.crawler import Crawler
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadConnectionRefusedError,
    DownloadTimeoutError,
    IgnoreRequest,
)
from scrapy.http import Request, Response
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.error import ConnectError, DNSLookupError
from twisted.internet.error import TimeoutError as TxTimeoutError

from core.health import REDIRECTED_OFFSITE, UNREACHABLE

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
        netloc = urlsplit(request.url).netloc
        if allowed and netloc not in allowed:
            if request.meta.get("redirect_urls"):  # the portal sent us away: an error of that page, never a skip
                self.crawler.stats.inc_value(f"{REDIRECTED_OFFSITE}{netloc}")
                raise IgnoreRequest(f"{OFFSITE_REDIRECT} {netloc}: {request.meta['redirect_urls'][0]}")
            self.crawler.stats.inc_value("yibao/offsite_skipped")
            raise IgnoreRequest(f"not a host of this portal: {request.url}")


OFFSITE_REDIRECT = "redirected off the portal to"
UNREACHABLE_SKIP = "not requested: the portal is unreachable"
# a host that does not answer at all: refused, unresolvable, unconnectable or silent until the download timeout
# (a connection lost mid-answer is not one of them: the host answered)
NO_ANSWER = (DownloadTimeoutError, DownloadConnectionRefusedError, CannotResolveHostError, ConnectError, DNSLookupError,
             TxTimeoutError)


def no_answer(exc: BaseException | None) -> bool:
    return isinstance(exc, NO_ANSWER)


def describe(exc: BaseException) -> str:
    """A short name of a no-answer error: ``timeout``, ``connection refused``, ``no such host``, ``cannot connect``."""
    if isinstance(exc, DownloadTimeoutError | TxTimeoutError):
        return "timeout"
    if isinstance(exc, DownloadConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, CannotResolveHostError | DNSLookupError):
        return "no such host"
    return "cannot connect"


class UnreachableHostMiddleware:
    """A host that does not answer ends the portal's run early instead of costing every request its timeout and
    retries: after ``YIBAO_UNREACHABLE_AFTER`` (default 2) consecutive attempts on one host that got no answer
    (timeout, refused, unresolvable; any answer in between resets the count) the spider is closed with finish
    reason ``unreachable`` (a failed run). Each attempt is counted, retries included (this middleware sits
    before the retry middleware), so a silent portal ends after about two download timeouts. Scrapy's own log
    lines for these errors (a retry line, a give-up line and a traceback each) are dropped
    (``QuietNoAnswerFilter``) in favour of one line per portal (``crawler.extensions``)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.limit = crawler.settings.getint("YIBAO_UNREACHABLE_AFTER", 2)
        self.consecutive: Counter[str] = Counter()
        self.closing = False
        QuietNoAnswerFilter.install()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> UnreachableHostMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        if self.closing:  # nothing more for a run that is ending: a request now would wait out its timeout
            raise IgnoreRequest(f"{UNREACHABLE_SKIP}: {request.url}")

    def process_response(self, request: Request, response: Response) -> Response:
        self.consecutive.pop(urlsplit(request.url).netloc, None)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if not no_answer(exception):
            return
        host = urlsplit(request.url).netloc
        stats = self.crawler.stats
        what = describe(exception)
        stats.inc_value(f"yibao/no_answer/{what}")
        self.consecutive[host] += 1
        if self.limit > 0 and self.consecutive[host] >= self.limit and not self.closing:
            self.closing = True
            stats.set_value("yibao/unreachable", f"{host} ({what}, {self.consecutive[host]} attempts in a row)")
            stats.inc_value(f"yibao/errors/{UNREACHABLE}")
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=UNREACHABLE))
        if self.closing:  # no retry either
            raise IgnoreRequest(f"{UNREACHABLE_SKIP}: {request.url}")


def summary_lines(portal_id: str, stats: dict[str, Any]) -> list[str]:
    """The lines a run logs about its requests that got no answer and its pages sent to another host (logged
    once per run, not per request)."""
    lines = []
    counts = {k.rsplit("/", 1)[1]: int(v) for k, v in stats.items() if k.startswith("yibao/no_answer/")}
    what = ", ".join(f"{name} ×{n}" for name, n in sorted(counts.items()))
    unreachable = stats.get("yibao/unreachable")
    if unreachable:
        lines.append(f"{portal_id}: unreachable: {unreachable}; the run stopped (no answer: {what})")
    elif counts:
        lines.append(f"{portal_id}: {sum(counts.values())} request attempts got no answer ({what})")
    moved = {k[len(REDIRECTED_OFFSITE):]: int(v) for k, v in stats.items() if k.startswith(REDIRECTED_OFFSITE)}
    if moved:
        hosts = ", ".join(f"{host} ×{n}" for host, n in sorted(moved.items(), key=lambda kv: -kv[1]))
        lines.append(f"{portal_id}: {sum(moved.values())} pages redirected off the portal, not followed ({hosts})")
    return lines


class QuietNoAnswerFilter(logging.Filter):
    """Drops Scrapy's log records about a request that got no answer (retrying, giving up, "Error downloading"
    with its traceback, robots.txt's error); the run's one line about them is logged by the run recorder."""

    LOGGERS = ("scrapy.downloadermiddlewares.retry", "scrapy.downloadermiddlewares.robotstxt", "scrapy.core.scraper")
    _installed = False

    @classmethod
    def install(cls) -> None:
        if cls._installed:
            return
        cls._installed = True
        quiet = cls()
        for name in cls.LOGGERS:
            logging.getLogger(name).addFilter(quiet)

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        args: Any = record.args
        values = list(args.values()) if isinstance(args, dict) else list(args or ())
        return not any(no_answer(value) for value in (exc, *values))
