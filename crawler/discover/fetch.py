"""Polite, bounded fetching for ``discover`` and ``check``: one request at a time, one site only.

A ``PoliteSession`` is bound to the site of the URL it starts from (scheme, host and port; a
redirect between http and https on the default ports of the same host is followed). It obeys
robots.txt (Protego, the parser Scrapy uses; RFC 9309: a 4xx robots.txt allows everything, a 5xx or
unreachable one forbids everything), waits ``delay`` seconds between requests, gives every request
a timeout, and stops at a page budget (robots.txt is not counted). The transport is a plain function
(``fetch``), so callers and tests can count or record every request that leaves the process.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urljoin, urlsplit

from crawler.middlewares import CHALLENGE

DEFAULT_TIMEOUT = 20.0
DEFAULT_DELAY = 1.0
MAX_REDIRECTS = 5
MAX_BODY = 8 * 1024 * 1024
REDIRECTS = (301, 302, 303, 307, 308)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w-]+)""", re.I)
_RATE_LIMITED = "访问过于频繁".encode()


@dataclass(frozen=True)
class HttpRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class HttpResponse:
    url: str
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes


Fetch = Callable[[HttpRequest], HttpResponse]


def httpx_fetch(request: HttpRequest) -> HttpResponse:
    """The default transport: one httpx request, redirects not followed (the session checks hosts)."""
    import httpx

    with (
        httpx.Client(follow_redirects=False, timeout=request.timeout, trust_env=False) as client,
        client.stream(request.method, request.url, headers=request.headers, content=request.body) as resp,
    ):
        body = b""
        for chunk in resp.iter_bytes():
            body += chunk
            if len(body) > MAX_BODY:
                break
        headers = {k.lower(): v for k, v in resp.headers.items()}
        return HttpResponse(str(resp.url), resp.status_code, headers, body)


@dataclass
class Fetched:
    """What one polite request brought: a response, or why there is none."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    error: str | None = None  # network error, timeout, too many redirects
    skipped: str | None = None  # robots.txt, another site, page budget: never requested
    blocked: str | None = None  # a WAF / JS challenge / rate-limit answer

    @property
    def ok(self) -> bool:
        return self.status == 200 and not self.blocked

    @property
    def problem(self) -> str | None:
        """One line saying why this fetch brought no usable page, or None."""
        if self.skipped:
            return self.skipped
        if self.error:
            return f"fetch failed: {self.error}"
        if self.blocked:
            return self.blocked
        if self.status != 200:
            return f"HTTP {self.status}"
        return None

    @cached_property
    def text(self) -> str:
        return decode_html(self.body, self.headers.get("content-type", ""))


def decode_html(body: bytes, content_type: str = "") -> str:
    """Text of a page: the charset of the header unless it is a Western default, else the one in
    ``<meta>``, else UTF-8 when the bytes are UTF-8, else GB18030 (GBK/GB2312's superset)."""
    declared = (
        content_type.lower().split("charset=", 1)[1].strip(" ;\"'")
        if "charset=" in content_type.lower()
        else ""
    )
    candidates = []
    if declared and declared not in ("iso-8859-1", "latin-1", "latin1", "ascii", "us-ascii", "windows-1252"):
        candidates.append(declared)
    meta = _META_CHARSET.search(body[:4096])
    if meta:
        candidates.append(meta[1].decode("ascii", "ignore"))
    candidates += ["utf-8", "gb18030"]
    for encoding in candidates:
        try:
            return body.decode("gb18030" if encoding.lower() in ("gb2312", "gbk") else encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode("utf-8", "replace")


def blocked_reason(status: int, body: bytes) -> str | None:
    """Why an answer is a firewall's and not the site's (the crawler's BlockedPageMiddleware rule)."""
    if status == 412:
        return "blocked (HTTP 412: a JavaScript cookie challenge such as 瑞数 $_ts)"
    if status == 521:
        return "blocked (HTTP 521: the site's CDN refuses this client)"
    if status in (200, 403) and len(body) < 4096 and CHALLENGE.search(body):
        return f"blocked (HTTP {status}: a JavaScript challenge page: $_ts / 加速乐 / cookie script)"
    if status == 403 and _RATE_LIMITED in body:
        return "blocked (HTTP 403: rate limited, 访问过于频繁)"
    if status == 429:
        return "blocked (HTTP 429: too many requests)"
    return None


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, (parts.hostname or "").lower(), port


class PoliteSession:
    """Sequential, robots-obeying, budgeted requests to the one site ``start_url`` is on."""

    def __init__(
        self,
        start_url: str,
        *,
        max_pages: int = 30,
        user_agent: str,
        fetch: Fetch | None = None,
        delay: float = DEFAULT_DELAY,
        timeout: float = DEFAULT_TIMEOUT,
        extra_hosts: tuple[str, ...] = (),
    ) -> None:
        scheme, host, port = _origin(start_url)
        if scheme not in ("http", "https") or not host:
            raise ValueError(f"not an http(s) URL: {start_url!r}")
        self.origin = (scheme, host, port)
        self.netlocs = {urlsplit(start_url).netloc.lower(), *(h.lower() for h in extra_hosts)}
        self.max_pages = max_pages
        self.user_agent = user_agent
        self.fetch: Fetch = fetch or httpx_fetch
        self.delay = delay
        self.timeout = timeout
        self.pages = 0  # requests counted against the budget
        self.log: list[tuple[str, str, int | None]] = []  # (method, url, status) of every request sent
        self._robots: dict[str, object] = {}  # scheme://netloc -> Protego parser, or True/False
        self._cache: dict[str, Fetched] = {}  # plain GETs: a page is fetched once per session
        self._last = 0.0

    # -- rules ---------------------------------------------------------------------------------

    def on_site(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return False
        if parts.netloc.lower() in self.netlocs:
            return True
        _, host, port = _origin(url)
        # http <-> https of the same host on the default ports (a site moving to https)
        return host == self.origin[1] and port in (80, 443) and self.origin[2] in (80, 443)

    @property
    def budget_left(self) -> int:
        return max(0, self.max_pages - self.pages)

    def robots_allows(self, url: str) -> bool:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        if key not in self._robots:
            self._robots[key] = self._load_robots(key)
        rules = self._robots[key]
        if isinstance(rules, bool):
            return rules
        return bool(rules.can_fetch(url, self.user_agent))  # type: ignore[attr-defined]

    def _load_robots(self, key: str) -> object:
        from protego import Protego

        try:
            resp = self._send(HttpRequest("GET", key + "/robots.txt", self._headers(), timeout=self.timeout))
        except Exception:  # unreachable: RFC 9309 says assume complete disallow
            return False
        hops = 0
        while resp.status in REDIRECTS and hops < MAX_REDIRECTS and resp.headers.get("location"):
            target = urljoin(resp.url, resp.headers["location"])
            if not self.on_site(target):
                return True  # robots.txt redirected off the site: treat as unavailable
            try:
                resp = self._send(HttpRequest("GET", target, self._headers(), timeout=self.timeout))
            except Exception:
                return False
            hops += 1
        if 400 <= resp.status < 500:
            return True  # unavailable: everything allowed (RFC 9309 §2.3.1.3)
        if resp.status != 200:
            return False  # unreachable (5xx): complete disallow (§2.3.1.4)
        return Protego.parse(decode_html(resp.body, resp.headers.get("content-type", "")))

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"User-Agent": self.user_agent, "Accept-Language": "zh-CN,zh;q=0.9", **(extra or {})}

    def _send(self, request: HttpRequest) -> HttpResponse:
        wait = self._last + self.delay - time.monotonic()
        if self._last and wait > 0:
            time.sleep(wait)
        try:
            resp = self.fetch(request)
        except Exception:
            self.log.append((request.method, request.url, None))
            raise
        finally:
            self._last = time.monotonic()
        self.log.append((request.method, request.url, resp.status))
        return resp

    # -- requests ------------------------------------------------------------------------------

    def get(
        self,
        url: str,
        *,
        method: str = "GET",
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Fetched:
        """One page (redirects within the site followed, each counted against the budget).

        A plain GET answered before (not skipped) is served again from memory, without a request."""
        url = url.split("#", 1)[0]
        plain = method == "GET" and body is None
        if plain and url in self._cache:
            return self._cache[url]
        fetched = self._get(url, method, headers, body)
        if plain and not fetched.skipped:
            self._cache[url] = self._cache[fetched.final_url] = fetched
        return fetched

    def _get(self, url: str, method: str, headers: dict[str, str] | None, body: bytes | None) -> Fetched:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            if not self.on_site(current):
                return Fetched(url, current, skipped=f"not requested: {current} is on another site")
            if not self.robots_allows(current):
                return Fetched(
                    url, current, skipped=f"not requested: robots.txt disallows {urlsplit(current).path}"
                )
            if self.pages >= self.max_pages:
                return Fetched(
                    url, current, skipped=f"not requested: page budget of {self.max_pages} used up"
                )
            self.pages += 1
            request = HttpRequest(method, current, self._headers(headers), body, self.timeout)
            try:
                resp = self._send(request)
            except Exception as exc:
                return Fetched(url, current, error=f"{type(exc).__name__}: {exc}"[:300])
            if resp.status in REDIRECTS and resp.headers.get("location"):
                current = urljoin(current, resp.headers["location"])
                if resp.status == 303:
                    method, body = "GET", None
                continue
            return Fetched(
                url,
                current,
                resp.status,
                resp.headers,
                resp.body,
                blocked=blocked_reason(resp.status, resp.body),
            )
        return Fetched(url, current, error=f"more than {MAX_REDIRECTS} redirects")
