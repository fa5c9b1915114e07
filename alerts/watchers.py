"""Watchers: who wants to hear about which events, and through which channels (``[[watchers]]``).

``load_alerts(config.raw)`` validates the user's ``[smtp]``, ``[alerts]`` and ``[[watchers]]`` sections
strictly; every problem raises ``crawler.registry.ConfigError`` naming the watcher (or section) and the
field. ``load_watchers(raw)`` is the watcher list alone. ``Watcher.matches(event, document)`` is pure.
The format is documented in ``docs/alerts.md``.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from email.utils import getaddresses
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.cron import cron_trigger
from core.records import KINDS
from crawler.registry import ConfigError, _cron_error
from storage.events import DOCUMENT_EVENT_KINDS
from storage.search import And as _And
from storage.search import Or as _Or
from storage.search import QueryError, Term, build_query, fold_search, index_text

OPS_EVENT_KINDS = ("portal_broken", "portal_recovered", "delivery_dead")
EVENT_KINDS = (*DOCUMENT_EVENT_KINDS, *OPS_EVENT_KINDS)
MODES = ("immediate", "digest")
SECURITY = ("none", "starttls", "ssl")
REPLY_CLASSES = {"A": "A", "B": "B", "C": "C", "D": "D", "甲": "A", "乙": "B", "丙": "C", "丁": "D"}
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_ARCHIVE_URL = "http://127.0.0.1:8001/archive/documents/{document_id}"  # Datasette over the archive

_WATCHER_KEYS = {
    "name", "portals", "regions", "kinds", "events", "keywords", "query", "classes", "mode", "digest_cron",
    "email", "webhook", "apprise", "ops", "enabled",
}  # fmt: skip
_WEBHOOK_KEYS = {"url", "secret_env"}
_SMTP_KEYS = {"host", "port", "security", "username_env", "password_env", "sender", "timeout", "ca_file"}
_ALERTS_KEYS = {
    "max_attempts", "backoff_base", "backoff_max", "backoff_jitter", "lease_seconds", "timezone",
    "archive_url", "timeout", "batch_size", "concurrency",
}  # fmt: skip
_NAME = re.compile(r"[\w.-]{1,64}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ADDRESS = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;.]+(?:\.[^@\s<>\"',;.]+)+")
_REGION = re.compile(r"[0-9]{6}")
_DOW = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


# --- settings --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str = "none"
    username_env: str | None = None
    password_env: str | None = None
    sender: str = "Yibao Watch <yibao-watch@localhost>"
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
        Document events must pass every filter that is set: a filter's list matches if any entry does.
        """
        if not self.enabled or event.kind not in self.events:
            return False
        if event.kind in OPS_EVENT_KINDS or document is None:
            return event.kind in OPS_EVENT_KINDS and (
                not self.portals or event.portal_id is None or event.portal_id in self.portals
            )
        if self.portals:
            portals = {event.portal_id, *document.get("portals", ())}
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


def _fail(where: str, field_name: str, problem: str) -> ConfigError:
    return ConfigError(f"{where}: field '{field_name}' {problem}")


def _str_list(where: str, key: str, value: Any, *, allowed: Sequence[str] | None = None) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise _fail(where, key, f"must be a non-empty list of strings, got {value!r}")
    if allowed is not None:
        for item in value:
            if item not in allowed:
                raise _fail(where, key, f"has {item!r}; must be among {', '.join(allowed)}")
    return tuple(dict.fromkeys(v.strip() for v in value))


def _number(where: str, key: str, value: Any, *, integer: bool = False, minimum: float = 0) -> Any:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value < minimum:
        label = "an integer" if integer else "a number"
        raise _fail(where, key, f"must be {label} >= {minimum}, got {value!r}")
    return value


def _env_name(where: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        raise _fail(where, key, f"must name an environment variable (letters, digits, _), got {value!r}")
    return value


def _email(where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(where, "email", f"must be an e-mail address, got {value!r}")
    parsed = getaddresses([value])
    if len(parsed) != 1 or not _ADDRESS.fullmatch(parsed[0][1]) or "," in value:
        raise _fail(where, "email", f"{value!r} is not an e-mail address (name <user@host> or user@host)")
    return value.strip()


def _url(where: str, key: str, value: Any) -> str:
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(where, key, f"must be an absolute http(s) URL, got {value!r}")
    return value


def _check_cron(where: str, key: str, value: Any, tz: tzinfo) -> str:
    problem = _cron_error(value) if isinstance(value, str) else "is not a string"
    if problem is None:
        try:
            if cron_trigger(value, tz).get_next_fire_time(None, datetime.now(tz)) is None:
                problem = "it never fires"
        except ValueError as exc:
            problem = str(exc)
    if problem is not None:
        raise _fail(where, key, f"must be a five-field cron expression, got {value!r} ({problem})")
    return " ".join(value.split())


def _apprise_urls(where: str, value: Any) -> tuple[str, ...]:
    urls = _str_list(where, "apprise", value)
    literal = [u for u in urls if not u.startswith("env:")]
    for url in urls:
        if url.startswith("env:"):
            _env_name(where, "apprise", url[4:])
        elif "://" not in url:
            raise _fail(where, "apprise", "has an entry that is not an apprise URL (scheme://...) or env:NAME")
    if literal:
        apprise = import_apprise()
        for i, url in enumerate(literal):
            if not apprise.Apprise().add(url):
                scheme = url.split("://", 1)[0]
                raise _fail(where, "apprise", f"entry {i + 1} ({scheme}://…) is not a URL apprise supports")
    return urls


def _watcher(raw: Any, index: int, timezone: str) -> Watcher:
    name = raw.get("name") if isinstance(raw, dict) else None
    where = f"watcher {name!r}" if isinstance(name, str) and name else f"watcher #{index + 1}"
    if not isinstance(raw, dict):
        raise _fail(where, "watchers", "must be a table ([[watchers]])")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _fail(where, "name", f"must be 1-64 letters, digits, '.', '-' or '_', got {name!r}")
    unknown = sorted(set(raw) - _WATCHER_KEYS)
    if unknown:
        raise _fail(where, unknown[0], f"is not a watcher key (known: {', '.join(sorted(_WATCHER_KEYS))})")
    for key in ("ops", "enabled"):
        if key in raw and not isinstance(raw[key], bool):
            raise _fail(where, key, f"must be true or false, got {raw[key]!r}")
    ops = raw.get("ops", False)
    if "events" in raw:
        events = _str_list(where, "events", raw["events"], allowed=EVENT_KINDS)
        if ops:
            events = tuple(dict.fromkeys((*events, *OPS_EVENT_KINDS)))
    else:
        events = OPS_EVENT_KINDS if ops else DOCUMENT_EVENT_KINDS
    portals = _str_list(where, "portals", raw["portals"]) if "portals" in raw else ()
    regions = _str_list(where, "regions", raw["regions"]) if "regions" in raw else ()
    for region in regions:
        if not _REGION.fullmatch(region):
            raise _fail(where, "regions", f"has {region!r}; must be six-digit region codes (350000, 350500)")
    kinds = _str_list(where, "kinds", raw["kinds"], allowed=KINDS) if "kinds" in raw else ()
    classes: tuple[str, ...] = ()
    if "classes" in raw:
        given = _str_list(where, "classes", raw["classes"])
        for item in given:
            if item.upper() not in REPLY_CLASSES:
                raise _fail(where, "classes", f"has {item!r}; must be among A, B, C, D (甲, 乙, 丙, 丁)")
        classes = tuple(dict.fromkeys(REPLY_CLASSES[c.upper()] for c in given))
    keywords = _str_list(where, "keywords", raw["keywords"]) if "keywords" in raw else ()
    query = raw.get("query")
    if query is not None:
        if not isinstance(query, str) or not query.strip():
            raise _fail(where, "query", f"must be a non-empty search query, got {query!r}")
        try:
            if build_query(query).root is None:
                raise QueryError("it has no search term")
        except QueryError as exc:
            raise _fail(where, "query", f"is not a valid search query: {exc}") from None
    mode = raw.get("mode", "immediate")
    if mode not in MODES:
        raise _fail(where, "mode", f"must be immediate or digest, got {mode!r}")
    digest_cron = None
    if mode == "digest":
        if "digest_cron" not in raw:
            raise _fail(where, "digest_cron", "is required with mode = \"digest\" (e.g. \"0 8 * * *\")")
        digest_cron = _check_cron(where, "digest_cron", raw["digest_cron"], ZoneInfo(timezone))
    elif "digest_cron" in raw:
        raise _fail(where, "digest_cron", "is only used with mode = \"digest\"")
    email = tuple(_email(where, a) for a in _str_list(where, "email", raw["email"])) if "email" in raw else ()
    webhook = None
    if "webhook" in raw:
        hook = raw["webhook"]
        if isinstance(hook, str):
            raise _fail(where, "webhook", "must be a table { url = \"...\", secret_env = \"NAME\" }")
        if not isinstance(hook, dict):
            raise _fail(where, "webhook", f"must be a table, got {hook!r}")
        bad = sorted(set(hook) - _WEBHOOK_KEYS)
        if bad:
            raise _fail(where, f"webhook.{bad[0]}", "is not a webhook key (url, secret_env)")
        if "url" not in hook:
            raise _fail(where, "webhook.url", "is missing")
        if "secret_env" not in hook:
            raise _fail(where, "webhook.secret_env", "is missing: webhooks are always signed (name the variable)")
        webhook = Webhook(_url(where, "webhook.url", hook["url"]), _env_name(where, "webhook.secret_env", hook["secret_env"]))
    apprise = _apprise_urls(where, raw["apprise"]) if "apprise" in raw else ()
    if not (email or webhook or apprise):
        raise _fail(where, "email", "no channel: give at least one of email, webhook, apprise")
    return Watcher(
        name=name,
        portals=portals,
        regions=regions,
        kinds=kinds,
        events=events,
        keywords=keywords,
        query=query.strip() if query else None,
        classes=classes,
        mode=mode,
        digest_cron=digest_cron,
        email=email,
        webhook=webhook,
        apprise=apprise,
        ops=ops,
        enabled=raw.get("enabled", True),
        timezone=timezone,
    )


def _settings(raw: Any) -> AlertSettings:
    where = "[alerts]"
    if raw is None:
        return AlertSettings()
    if not isinstance(raw, dict):
        raise _fail(where, "alerts", "must be a table")
    unknown = sorted(set(raw) - _ALERTS_KEYS)
    if unknown:
        raise _fail(where, unknown[0], f"is not an [alerts] key (known: {', '.join(sorted(_ALERTS_KEYS))})")
    values: dict[str, Any] = {}
    for key in ("max_attempts", "batch_size", "concurrency"):
        if key in raw:
            values[key] = _number(where, key, raw[key], integer=True, minimum=1)
    for key in ("backoff_base", "backoff_max", "lease_seconds", "timeout"):
        if key in raw:
            values[key] = float(_number(where, key, raw[key], minimum=0.001))
    if "backoff_jitter" in raw:
        values["backoff_jitter"] = float(_number(where, "backoff_jitter", raw["backoff_jitter"]))
        if values["backoff_jitter"] >= 1:
            raise _fail(where, "backoff_jitter", "must be a fraction below 1 (0.25 = +-25%)")
    if "timezone" in raw:
        try:
            ZoneInfo(str(raw["timezone"]))
        except (ZoneInfoNotFoundError, ValueError):
            raise _fail(where, "timezone", f"is not an IANA time zone, got {raw['timezone']!r}") from None
        values["timezone"] = raw["timezone"]
    if "archive_url" in raw:
        template = raw["archive_url"]
        try:
            template.format(document_id=1, version_id=1, event_id=1)
        except (AttributeError, KeyError, IndexError, ValueError):
            raise _fail(where, "archive_url", "must be a string using only {document_id}, {version_id},"
                        f" {{event_id}}, got {template!r}") from None
        values["archive_url"] = template
    settings = AlertSettings(**values)
    if settings.lease_seconds <= settings.timeout:
        raise _fail(where, "lease_seconds", f"must be longer than timeout ({settings.timeout:g} s): a send still"
                    " running when its lease ends is sent again by the next dispatcher")
    return settings


def _smtp(raw: Any) -> SmtpSettings | None:
    where = "[smtp]"
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _fail(where, "smtp", "must be a table")
    unknown = sorted(set(raw) - _SMTP_KEYS)
    if unknown:
        raise _fail(where, unknown[0], f"is not an [smtp] key (known: {', '.join(sorted(_SMTP_KEYS))})")
    host = raw.get("host")
    if not isinstance(host, str) or not host:
        raise _fail(where, "host", "is missing")
    security = raw.get("security", "none")
    if security not in SECURITY:
        raise _fail(where, "security", f"must be one of none, starttls, ssl, got {security!r}")
    port = raw.get("port", {"none": 25, "starttls": 587, "ssl": 465}[security])
    if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
        raise _fail(where, "port", f"must be a TCP port number, got {port!r}")
    user_env = _env_name(where, "username_env", raw["username_env"]) if "username_env" in raw else None
    password_env = _env_name(where, "password_env", raw["password_env"]) if "password_env" in raw else None
    if (user_env is None) != (password_env is None):
        raise _fail(where, "password_env" if user_env else "username_env", "is needed with the other one (auth)")
    sender = raw.get("sender", SmtpSettings.sender)
    parsed = getaddresses([sender]) if isinstance(sender, str) else []
    if len(parsed) != 1 or not _ADDRESS.fullmatch(parsed[0][1]):
        raise _fail(where, "sender", f"must be an e-mail address (\"Name <user@host>\"), got {sender!r}")
    timeout = float(_number(where, "timeout", raw["timeout"], minimum=0.001)) if "timeout" in raw else 30.0
    ca_file = raw.get("ca_file")
    if ca_file is not None and (not isinstance(ca_file, str) or not os.path.isfile(ca_file)):
        raise _fail(where, "ca_file", f"must be the path of a PEM file, got {ca_file!r}")
    return SmtpSettings(host, port, security, user_env, password_env, sender, timeout, ca_file)


def load_alerts(config_raw: Mapping[str, Any] | None) -> AlertsConfig:
    """Validate and load ``[smtp]``, ``[alerts]`` and ``[[watchers]]`` from the user's config dict."""
    raw = dict(config_raw or {})
    settings = _settings(raw.get("alerts"))
    smtp = _smtp(raw.get("smtp"))
    watchers_raw = raw.get("watchers", [])
    if not isinstance(watchers_raw, list):
        raise ConfigError("watchers: must be an array of tables ([[watchers]])")
    watchers: list[Watcher] = []
    seen: set[str] = set()
    for i, item in enumerate(watchers_raw):
        watcher = _watcher(item, i, settings.timezone)
        if watcher.name in seen:
            raise _fail(f"watcher {watcher.name!r}", "name", "is duplicated")
        seen.add(watcher.name)
        if watcher.email and smtp is None:
            raise _fail(f"watcher {watcher.name!r}", "email", "needs an [smtp] section")
        watchers.append(watcher)
    return AlertsConfig(tuple(watchers), smtp, settings)


def load_watchers(config_raw: Mapping[str, Any] | None) -> list[Watcher]:
    """The ``[[watchers]]`` of a config dict (``Config.raw``), validated (with ``[smtp]``/``[alerts]``)."""
    return list(load_alerts(config_raw).watchers)
