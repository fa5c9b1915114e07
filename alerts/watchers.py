"""Watchers: who wants to hear about which events, and through which channels (``[[watchers]]``).

``load_alerts(config.raw)`` validates the user's ``[smtp]``, ``[alerts]`` and ``[[watchers]]`` sections
against the declared schema (``crawler.config_schema``, which also checks the rest of the dict) and the
checks that need this layer (apprise URLs, queries, ``ca_file``); every problem raises ``ConfigError``
naming the watcher (or section) and the field. ``load_watchers(raw)`` is the watcher list alone.
``Watcher.matches(event, document)`` is pure. The format is documented in ``docs/alerts.md``.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from core.config_errors import ConfigError
from core.cron import cron_trigger
from crawler.config_schema import (
    DEFAULT_ARCHIVE_URL,
    DEFAULT_SENDER,
    DEFAULT_TIMEZONE,
    EVENT_KINDS,
    OPS_EVENT_KINDS,
    REPLY_CLASSES,
    SMTP_PORTS,
    AlertsSpec,
    SmtpSpec,
    UserConfig,
    WatcherSpec,
    config_error,
    validate,
)
from storage.citations import CITED_CHANGE_KINDS
from storage.events import DOCUMENT_EVENT_KINDS
from storage.search import And as _And
from storage.search import Or as _Or
from storage.search import QueryError, Term, build_query, fold_search, index_text

__all__ = [
    "BASELINE_MODES", "DEFAULT_ARCHIVE_URL", "DEFAULT_TIMEZONE", "EVENT_KINDS", "MODES", "OPS_EVENT_KINDS", "REPLY_CLASSES", "SECURITY",
    "AlertSettings", "AlertsConfig", "ConfigError", "SmtpSettings", "Watcher", "Webhook", "apprise_target",
    "import_apprise", "load_alerts", "load_watchers", "query_matches",
]  # fmt: skip

MODES = ("immediate", "digest")
BASELINE_MODES = ("summary", "off", "every")  # what a watcher hears of a baseline (a portal's first crawl)
SECURITY = tuple(SMTP_PORTS)
_LISTS = {"portals", "regions", "kinds", "keywords", "classes", "email", "apprise"}


# --- settings --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str = "none"
    username_env: str | None = None
    password_env: str | None = None
    sender: str = DEFAULT_SENDER
    timeout: float = 30.0
    ca_file: str | None = None  # trust this CA bundle (PEM) instead of the system's, for TLS


@dataclass(frozen=True)
class AlertSettings:
    """``[alerts]``: the dispatcher's knobs (all optional)."""

    max_attempts: int = 8  # tries before a delivery is dead (and an ops alert is raised)
    backoff_base: float = 60.0  # seconds before the 2nd try; doubles every try ...
    backoff_max: float = 3600.0  # ... up to this
    backoff_jitter: float = 0.25  # +- this fraction, at random
    lease_seconds: float = 300.0  # a claimed row comes back after this (a killed dispatcher)
    timezone: str = DEFAULT_TIMEZONE  # for digest_cron
    archive_url: str = DEFAULT_ARCHIVE_URL  # link to the archive record: {document_id} {version_id} {event_id}
    timeout: float = 20.0  # per webhook / chat request
    batch_size: int = 50  # rows claimed at a time
    concurrency: int = 8  # sends in flight at once
    dispatch_deadline: float = 60.0  # seconds one dispatch pass may take
    allow_loopback: bool = False  # webhook targets on this machine allowed (a local receiver)

    @property
    def tz(self) -> tzinfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Webhook:
    url: str
    secret_env: str


@dataclass(frozen=True)
class Watcher:
    name: str
    portals: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    events: tuple[str, ...] = DOCUMENT_EVENT_KINDS
    keywords: tuple[str, ...] = ()
    query: str | None = None
    classes: tuple[str, ...] = ()
    mode: str = "immediate"
    digest_cron: str | None = None
    email: tuple[str, ...] = ()
    webhook: Webhook | None = None
    apprise: tuple[str, ...] = ()
    ops: bool = False
    enabled: bool = True
    timezone: str = DEFAULT_TIMEZONE  # [alerts] timezone, for digest_cron
    baseline: str = "summary"  # a baseline's documents: one summary | off (nothing) | every (one message each)
    since: str | None = None  # ISO date: documents published before it are ignored (undated ones pass)
    follow_citations: bool = False  # also: changes of the documents cited by the documents it selects

    # -- channels ---------------------------------------------------------------------------------

    def targets(self) -> list[tuple[str, str]]:
        """(channel, target) pairs, one outbox row each. Apprise targets never contain the URL's secrets:
        ``env:NAME`` as written, else ``scheme://…#<sha256 prefix of the URL>``."""
        out = [("email", address) for address in self.email]
        if self.webhook is not None:
            out.append(("webhook", self.webhook.url))
        out.extend(("apprise", apprise_target(url)) for url in self.apprise)
        return out

    def apprise_url(self, target: str) -> str | None:
        """The configured apprise URL behind an outbox target (None if it is no longer configured);
        ``env:NAME`` entries are read from the environment now."""
        for url in self.apprise:
            if apprise_target(url) == target:
                return os.environ.get(url[4:]) if url.startswith("env:") else url
        return None

    # -- filters ----------------------------------------------------------------------------------

    def matches(self, event: Any, document: Mapping[str, Any] | None) -> bool:
        """Does this watcher want ``event``? ``document`` is the document's fields (a ``documents`` row
        dict; ``body_text`` and ``portals`` are used when present, see ``alerts.routing.document_view``).

        Operational events (no document) go by event kind only, and by ``portals`` when they name one.
        Document events must pass every filter that is set: a filter's list matches if any entry does;
        ``since`` passes documents published on or after it, and undated ones.
        """
        if not self.enabled or event.kind not in self.events:
            return False
        if event.kind in OPS_EVENT_KINDS or document is None:
            return event.kind in OPS_EVENT_KINDS and (
                not self.portals or event.portal_id is None or event.portal_id in self.portals
            )
        return self.selects(document, event.portal_id)

    def follows_citations_of(self, event: Any) -> bool:
        """Would a change like ``event`` of a document cited by one this watcher selects be news to it
        (``follow_citations``, a kind of ``CITED_CHANGE_KINDS`` it listens to)?"""
        return self.enabled and self.follow_citations and event.kind in self.events and event.kind in CITED_CHANGE_KINDS

    def selects(self, document: Mapping[str, Any], portal_id: str | None = None) -> bool:
        """Do the document filters pass ``document`` (seen on ``portal_id`` as well as its own portals)?"""
        published = document.get("published_on")
        if self.since and isinstance(published, str) and published and published[:10] < self.since:
            return False
        if self.portals:
            portals = {portal_id, *document.get("portals", ())}
            if not portals & set(self.portals):
                return False
        if self.regions and not any(_region_match(r, document.get("region_code")) for r in self.regions):
            return False
        if self.kinds and document.get("kind") not in self.kinds:
            return False
        if self.classes and REPLY_CLASSES.get(str(document.get("reply_class") or "").upper()) not in self.classes:
            return False
        texts = [document.get("title") or "", document.get("doc_no") or "", document.get("body_text") or ""]
        if self.keywords:
            folded = [_fold(text) for text in texts]
            if not any(_fold(k) in text for k in self.keywords for text in folded):
                return False
        return not self.query or query_matches(self.query, texts)

    def next_digest_at(self, after: datetime) -> datetime:
        """The first digest time at or after ``after`` (an aware datetime; digest mode only)."""
        if self.digest_cron is None:
            raise ValueError(f"watcher {self.name!r} has no digest_cron")
        fire = cron_trigger(self.digest_cron, ZoneInfo(self.timezone)).get_next_fire_time(None, after)
        if fire is None:  # an impossible date (31 Feb)
            raise ValueError(f"watcher {self.name!r}: digest_cron {self.digest_cron!r} never fires")
        return fire


@dataclass(frozen=True)
class AlertsConfig:
    watchers: tuple[Watcher, ...] = ()
    smtp: SmtpSettings | None = None
    settings: AlertSettings = field(default_factory=AlertSettings)

    def watcher(self, name: str) -> Watcher:
        for watcher in self.watchers:
            if watcher.name == name:
                return watcher
        known = ", ".join(w.name for w in self.watchers) or "none configured"
        raise ConfigError(f"unknown watcher {name!r}; known: {known}")

    def ops_watchers(self) -> list[Watcher]:
        return [w for w in self.watchers if w.enabled and any(k in w.events for k in OPS_EVENT_KINDS)]


# --- matching helpers -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _fold(text: str) -> str:
    return fold_search(text)


@functools.lru_cache(maxsize=256)
def _tokens(text: str) -> tuple[str, ...]:
    return tuple(index_text(text).split())


def _region_match(wanted: str, code: Any) -> bool:
    if not isinstance(code, str):
        return False
    prefix = wanted
    while prefix.endswith("00") and len(prefix) > 2:  # 350000 = the province, 350500 = the city
        prefix = prefix[:-2]
    return code.startswith(prefix)


def _phrase_in(tokens: Sequence[str], phrase: Sequence[str], prefix: bool) -> bool:
    n = len(phrase)
    head, last = list(phrase[:-1]), phrase[-1]
    for i in range(len(tokens) - n + 1):
        if list(tokens[i : i + n - 1]) == head:
            token = tokens[i + n - 1]
            if token == last or (prefix and token.startswith(last)):
                return True
    return False


def _node_matches(node: Any, fields: Sequence[Sequence[str]]) -> bool:
    if isinstance(node, Term):
        text = node.phrase()
        prefix = text.endswith(" *")
        phrase = text[1 : text.rindex('"')].split()
        return any(_phrase_in(tokens, phrase, prefix) for tokens in fields)
    if isinstance(node, _Or):
        return any(_node_matches(item, fields) for item in node.items)
    if isinstance(node, _And):
        return all(_node_matches(item, fields) for item in node.positive) and not any(
            _node_matches(item, fields) for item in node.negative
        )
    return False


def query_matches(query: str, texts: Sequence[str]) -> bool:
    """``storage.search`` semantics evaluated on given texts (title, 文号, body): a term matches when its
    phrase occurs in one field's index tokens, exactly as the FTS5 index would answer."""
    root = build_query(query).root
    return root is not None and _node_matches(root, [_tokens(text) for text in texts])


@functools.cache
def import_apprise() -> Any:
    """``import apprise`` with its plugins loaded (only when configured: it is slow to import), without
    the deprecation warnings of its own imports (imghdr)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise

        apprise.Apprise().add("json://localhost/")  # loads every plugin module now, warnings muted
    return apprise


def apprise_target(url: str) -> str:
    if url.startswith("env:"):
        return url
    scheme = url.split("://", 1)[0] if "://" in url else "apprise"
    return f"{scheme}://…#{hashlib.sha256(url.encode('utf-8')).hexdigest()[:12]}"


# --- loading ---------------------------------------------------------------------------------------


def _settings(spec: AlertsSpec | None) -> AlertSettings:
    return AlertSettings(**spec.model_dump()) if spec is not None else AlertSettings()


def _smtp(spec: SmtpSpec | None, raw: Mapping[str, Any]) -> SmtpSettings | None:
    if spec is None:
        return None
    if spec.ca_file is not None and not os.path.isfile(spec.ca_file):
        raise config_error(None, raw, ("smtp", "ca_file"), f"must be the path of a PEM file, got {spec.ca_file!r}")
    port = spec.port if spec.port is not None else SMTP_PORTS[spec.security]
    return SmtpSettings(spec.host, port, spec.security, spec.username_env, spec.password_env, spec.sender,
                        spec.timeout, spec.ca_file)  # fmt: skip


def _watcher(spec: WatcherSpec, index: int, timezone: str, raw: Mapping[str, Any]) -> Watcher:
    """The runtime watcher of a validated entry, after the checks the schema cannot make (query syntax,
    apprise support)."""

    def fail(key: str, problem: str) -> ConfigError:
        return config_error(None, raw, ("watchers", index, key), problem)

    if spec.query is not None:
        try:
            if build_query(spec.query).root is None:
                raise QueryError("it has no search term")
        except QueryError as exc:
            raise fail("query", f"is not a valid search query: {exc}") from None
    literal = [url for url in spec.apprise or () if not url.startswith("env:")]
    if literal:
        apprise = import_apprise()
        for i, url in enumerate(literal):
            if not apprise.Apprise().add(url):  # the URL holds a token: only its scheme is shown
                raise fail("apprise", f"entry {i + 1} ({url.split('://', 1)[0]}://…) is not a URL apprise supports")
    events = tuple(spec.events) if spec.events is not None else () if spec.ops else DOCUMENT_EVENT_KINDS
    lists = {k: tuple(v) for k, v in spec.model_dump(include=_LISTS, exclude_none=True).items()}
    return Watcher(
        **lists, name=spec.name, mode=spec.mode, digest_cron=spec.digest_cron, ops=spec.ops, enabled=spec.enabled,
        events=tuple(dict.fromkeys((*events, *(OPS_EVENT_KINDS if spec.ops else ())))),
        query=spec.query.strip() if spec.query else None, timezone=timezone, baseline=spec.baseline,
        since=spec.since.isoformat() if spec.since else None, follow_citations=spec.follow_citations,
        webhook=Webhook(spec.webhook.url, spec.webhook.secret_env) if spec.webhook else None,
    )  # fmt: skip


def load_alerts(config_raw: Mapping[str, Any] | None) -> AlertsConfig:
    """Validate and load ``[smtp]``, ``[alerts]`` and ``[[watchers]]`` from the user's config dict."""
    raw = dict(config_raw or {})
    config = validate(UserConfig, raw)
    settings = _settings(config.alerts)
    smtp = _smtp(config.smtp, raw)
    watchers = tuple(_watcher(spec, i, settings.timezone, raw) for i, spec in enumerate(config.watchers))
    _check_targets(config, settings, raw)
    return AlertsConfig(watchers, smtp, settings)


def _check_targets(config: UserConfig, settings: AlertSettings, raw: Mapping[str, Any]) -> None:
    """Refuse, at load, webhook targets we must never POST to (credentials in the URL, link-local or cloud
    metadata addresses, this machine unless ``[alerts] allow_loopback``), and an ``archive_url`` with
    credentials or such an address (it is a link in messages: this machine is its normal place)."""
    from alerts.channels.webhook import check_target_url  # the channel owns the rule; imported late (cycle)

    for i, spec in enumerate(config.watchers):
        if spec.webhook is not None:
            problem = check_target_url(spec.webhook.url, allow_loopback=settings.allow_loopback)
            if problem:
                raise config_error(None, raw, ("watchers", i, "webhook", "url"), problem)
    link = settings.archive_url.format(document_id=0, version_id=0, event_id=0)
    problem = check_target_url(link, allow_loopback=True)
    if problem:
        raise config_error(None, raw, ("alerts", "archive_url"), problem)


def load_watchers(config_raw: Mapping[str, Any] | None) -> list[Watcher]:
    """The ``[[watchers]]`` of a config dict (``Config.raw``), validated (with ``[smtp]``/``[alerts]``)."""
    return list(load_alerts(config_raw).watchers)
