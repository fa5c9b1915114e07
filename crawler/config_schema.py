"""The declared schema of the user config file (``yibao.toml``) and of the shipped registry.

One pydantic model per section: ``[[portals]]`` (its ``columns``, ``options`` and ``settings``), ``[archive]``,
``[alerts]``, ``[smtp]``, ``[[watchers]]``. Every model is strict (TOML's types, no coercion) and closed: a
misspelled section or key anywhere is an error naming it. ``validate()`` turns the first problem into one
``ConfigError`` line naming the file, the entry and the field::

    yibao.toml: portal 'fujian_xiamen': field 'base_url' must be an absolute http(s) URL, got 'ftp://x'

Numbers are finite (TOML's ``inf``/``nan`` are refused anywhere in the file) and within each field's bounds;
tables and arrays nest at most ``MAX_NESTING`` deep. Relative paths resolve against the config file's folder
(``base_dir`` in the validation context). ``json_schema()`` publishes the file's JSON Schema for editors.

Pure (pydantic, the standard library, ``core``): every layer that reads the config can use it. What needs more
is checked where the section is used: apprise URLs, watcher queries, ``ca_file``'s existence (``alerts.watchers``).
"""

from __future__ import annotations

import difflib
import math
import os
import re
from collections import deque
from datetime import date, datetime, time
from email.utils import getaddresses
from typing import Annotated, Any, ClassVar, Literal, TypeAlias, TypeVar, Union, get_args
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from core.config_errors import ConfigError

__all__ = ["ConfigError", "PortalSpec", "Registry", "TomlValue", "UserConfig", "config_error", "json_schema", "validate"]

MAX_NESTING = 16  # tables/arrays inside tables/arrays; tomllib itself gives up (RecursionError) near 1,000
DEFAULT_ARCHIVE = "data/archive.db"
DEFAULT_SCHEDULE = "0 8 * * *"
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEFAULT_ARCHIVE_URL = "http://127.0.0.1:8001/archive/documents/{document_id}"  # Datasette over the archive
DEFAULT_SENDER = "Yibao Watch <yibao-watch@localhost>"

Family = Literal["trs", "sichuan", "gkmlpt", "hanweb", "generic"]
ColumnKind = Literal["replies", "policies", "reports"]
Level = Literal["national", "province", "city", "county"]
# storage.events.DOCUMENT_EVENT_KINDS and core.records.KINDS, spelled out for the schema (a test keeps them equal)
DocumentEventKind = Literal[
    "new", "edited", "validity_changed", "metadata_changed", "withdrawn", "reappeared", "superseded", "expired"
]
OpsEventKind = Literal["portal_broken", "portal_recovered", "delivery_dead"]
EventKind = Literal[DocumentEventKind, OpsEventKind]  # one flat Literal: one error naming every kind
DocumentKind = Literal["suggestion_reply", "proposal_reply", "policy", "interpretation", "report", "notice"]
FAMILIES: tuple[str, ...] = get_args(Family)
COLUMN_KINDS: tuple[str, ...] = get_args(ColumnKind)
LEVELS: tuple[str, ...] = get_args(Level)
DOCUMENT_EVENT_KINDS: tuple[str, ...] = get_args(DocumentEventKind)
OPS_EVENT_KINDS: tuple[str, ...] = get_args(OpsEventKind)
EVENT_KINDS: tuple[str, ...] = get_args(EventKind)
REPLY_CLASSES = {"A": "A", "B": "B", "C": "C", "D": "D", "甲": "A", "乙": "B", "丙": "C", "丁": "D"}
GENERIC_OPTIONS = {"link": "", "title": "", "date": "", "body": "", "next_page": ""}
SMTP_PORTS = {"none": 25, "starttls": 587, "ssl": 465}

# in the JSON Schema too (ECMAScript and pydantic's Rust regex agree on these: ``$`` is the very end)
_PATTERNS = {
    r"^[a-z][a-z0-9_]{1,63}$": "must be lower-case ascii (letters, digits, _), 2-64 chars",
    r"^[0-9]{6}$": "must be a six-digit GB/T 2260 code",  # not \d: that matches full-width digits too
    r"^[A-Za-z_][A-Za-z0-9_]*$": "must name an environment variable (letters, digits, _)",
    r"\S": "must not be blank",
}
_ID, _REGION, _ENV, _NOT_BLANK = _PATTERNS
_WATCHER_NAME = re.compile(r"[\w.-]{1,64}")
_ADDRESS = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;.]+(?:\.[^@\s<>\"',;.]+)+")
_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_CRON_NAMES: tuple[dict[str, int], ...] = ({}, {}, {}, {m: i for i, m in enumerate(_MONTHS, 1)}, {d: i for i, d in enumerate(_DAYS)})


# --- value rules ------------------------------------------------------------------------------------


def cron_error(expr: str) -> str | None:
    """Why ``expr`` is not a five-field cron expression with values in range (0 or 7 = Sunday), or None."""
    fields = expr.split()
    if len(fields) != 5:
        return f"has {len(fields)} fields, not 5"
    for text, (label, low, high), names in zip(fields, _CRON_FIELDS, _CRON_NAMES, strict=True):
        for part in text.split(","):
            span, _, step = part.partition("/")
            if step and not (step.isascii() and step.isdigit() and int(step) > 0):
                return f"{label} step {step!r} is not a positive number"
            for value in span.split("-", 1) if span != "*" else ():
                number = names.get(value.lower()) if value.isascii() and not value.isdigit() else None
                if number is None and not (value.isascii() and value.isdigit()):
                    return f"{label} value {value!r} is not a number"
                if not low <= (int(value) if number is None else number) <= high:
                    return f"{label} value {value!r} is out of range {low}-{high}"
    return None


def _cron(value: Any) -> Any:
    why = cron_error(value) if isinstance(value, str) else "not a string"
    if why is not None:
        raise ValueError(f"must be a five-field cron expression, got {value!r} ({why})")
    return " ".join(value.split())


def _http_url(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"must be an absolute http(s) URL string, got {value!r}")
    if urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).hostname:
        raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
    return value


def _column_url(value: str) -> str:
    return _http_url(value) if urlsplit(value).scheme else value  # relative: joined to base_url when complete


def _host_list(value: Any) -> Any:
    if not isinstance(value, list):
        raise ValueError(f"must be a list of host names, got {value!r}")
    return value


def _one_or_many(value: Any) -> Any:
    """A list of strings, stripped, duplicates dropped; a single string is a one-element list."""
    value = [value] if isinstance(value, str) else value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(dict.fromkeys(v.strip() for v in value))
    return value


def _watcher_name(value: str) -> str:
    if not _WATCHER_NAME.fullmatch(value):
        raise ValueError(f"must be 1-64 letters, digits, '.', '-' or '_', got {value!r}")
    return value


def _email(value: str) -> str:
    parsed = getaddresses([value])
    if len(parsed) != 1 or not _ADDRESS.fullmatch(parsed[0][1]) or "," in value:
        raise ValueError(f"must be an e-mail address (name <user@host> or user@host), got {value!r}")
    return value.strip()


def _apprise_url(value: str) -> str:
    if value.startswith("env:") and not re.fullmatch(_ENV[1:-1], value[4:]):
        raise ValueError("env:NAME must name an environment variable (letters, digits, _)")
    if not value.startswith("env:") and "://" not in value:
        raise ValueError("is not an apprise URL (scheme://...) or env:NAME")  # never echoed: it holds a token
    return value


def _reply_class(value: Any) -> Any:
    if isinstance(value, str) and value.strip().upper() not in REPLY_CLASSES:
        raise ValueError(f"must be A, B, C or D (甲, 乙, 丙, 丁), got {value!r}")
    return REPLY_CLASSES[value.strip().upper()] if isinstance(value, str) else value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"is not an IANA time zone, got {value!r}") from None
    return value


def _archive_url(value: str) -> str:
    try:
        value.format(document_id=1, version_id=1, event_id=1)
    except (KeyError, IndexError, ValueError):
        raise ValueError(f"must use only {{document_id}}, {{version_id}}, {{event_id}}, got {value!r}") from None
    return value


def _local_path(value: str, info: ValidationInfo) -> str:
    """A path as written, resolved against the config file's folder (``base_dir``) when relative."""
    path, base = os.path.expanduser(value), (info.context or {}).get("base_dir")
    if base is not None and not os.path.isabs(path):
        path = os.path.normpath(os.path.join(os.path.abspath(base), path))
    return path


def _at(loc: tuple[str | int, ...], problem: str) -> PydanticCustomError:
    """An error of a model check, naming the field (``loc`` inside the model) it is about."""
    return PydanticCustomError("config", "{problem}", {"problem": problem, "loc": loc})


def _unique(items: list[Any], key: str, section: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        if getattr(item, key) in seen:
            raise _at((section, i, key), "is duplicated")
        seen.add(getattr(item, key))


TomlValue: TypeAlias = "str | int | float | bool | datetime | date | time | list[TomlValue] | dict[str, TomlValue]"
T = TypeVar("T")
Maybe = Union[T, None]  # noqa: UP007 -- unset (TOML has no null: json_schema() leaves it out)
# a non-empty list; one string is a one-element list (json_schema() says so: "oneOrMany")
Many = Annotated[list[T], BeforeValidator(_one_or_many), Field(min_length=1, json_schema_extra={"oneOrMany": True})]
NonEmpty = Annotated[str, Field(min_length=1)]
NotBlank = Annotated[str, Field(pattern=_NOT_BLANK)]
RegionCode = Annotated[str, Field(pattern=_REGION)]
EnvName = Annotated[str, Field(pattern=_ENV)]
Cron = Annotated[str, BeforeValidator(_cron)]
HttpUrl = Annotated[str, BeforeValidator(_http_url), Field(json_schema_extra={"format": "uri"})]
LocalPath = Annotated[str, Field(min_length=1), AfterValidator(_local_path)]
Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Email = Annotated[NotBlank, AfterValidator(_email)]
ReplyClass = Annotated[Literal["A", "B", "C", "D"], BeforeValidator(_reply_class),
                       WithJsonSchema({"type": "string", "enum": ["A", "B", "C", "D", "a", "b", "c", "d", *"甲乙丙丁"]})]


# --- the sections ------------------------------------------------------------------------------------


class _Table(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")
    table: ClassVar[str] = "key"  # "is not a known <table>"

    @model_validator(mode="before")
    @classmethod
    def _keys(cls, data: Any) -> Any:
        """Unknown keys first (a misspelled key explains a "missing" one), then missing keys, described."""
        if not isinstance(data, dict):
            return data
        for key in data:
            if key not in cls.model_fields:
                near = difflib.get_close_matches(str(key), cls.model_fields, n=1)
                hint = f"did you mean '{near[0]}'? " if near else ""
                raise _at((key,), f"is not a known {cls.table} ({hint}known: {', '.join(sorted(cls.model_fields))})")
        for name, field in cls.model_fields.items():
            if field.is_required() and name not in data:
                about = (field.description or "").rstrip(".")
                about = about[:1].lower() + about[1:] if about[1:2].islower() else about
                raise _at((name,), f"is missing: {about}" if about else "is missing")
        return data


class ColumnSpec(_Table):
    table: ClassVar[str] = "column key"
    name: NonEmpty = Field(description="The column's name on the portal (建议提案答复, 政策文件 …).")
    kind: ColumnKind = Field(description="What the column lists: replies | policies | reports.")
    url: Annotated[NonEmpty, AfterValidator(_column_url)] = Field(
        description="The listing page: an absolute http(s) URL, or a path joined to the portal's base_url."
    )


class PortalEntry(_Table):
    """A ``[[portals]]`` entry as written: a known id overrides that portal's fields, a new id adds a portal."""

    table: ClassVar[str] = "portal key"
    id: Annotated[str, Field(pattern=_ID)] = Field(description="Lower-case ascii id, stable forever: the spider name.")
    name: Maybe[NonEmpty] = Field(None, description="The bureau's name (required for a new portal).")
    region_code: Maybe[RegionCode] = Field(None, description="Six-digit GB/T 2260 code (required for a new portal).")
    province: Maybe[str] = Field(None, description="Province name, for display.")
    city: Maybe[str] = Field(None, description="City name, for display.")
    level: Level = Field("city", description="national | province | city | county.")
    family: Maybe[Family] = Field(None, description="The CMS family (required for a new portal).")
    base_url: Maybe[HttpUrl] = Field(None, description="Where the portal is served; relative column URLs join it.")
    home: Maybe[str] = Field(None, description="The real portal's address, for reference only: never requested.")
    columns: Maybe[Annotated[list[ColumnSpec], Field(min_length=1)]] = Field(
        None, description="The listing pages to crawl (required for a new portal)."
    )
    allowed_domains: Maybe[Annotated[list[NonEmpty], BeforeValidator(_host_list)]] = (
        Field(None, description="Hosts the spider may request; default: the columns' hosts.")
    )
    schedule: Cron = Field(DEFAULT_SCHEDULE, description="Five-field cron (Asia/Shanghai): when to crawl.")
    enabled: bool = Field(True, description="false: kept in the registry but never crawled.")
    verified: bool = Field(False, description="true once someone checked the entry against the live site.")
    source: Maybe[NotBlank] = Field(None, description="Where the entry's facts (host, paths, family) come from.")
    options: dict[str, Any] = Field(  # strings, checked with the family (a generic portal's are CSS selectors)
        default_factory=dict, json_schema_extra={"additionalProperties": {"type": "string"}},
        description="Family options (gkmlpt: sid; generic: CSS selectors link, body and optional title, date, next_page).",
    )  # fmt: skip
    settings: dict[str, Any] = Field(default_factory=dict, description="Scrapy setting overrides for this portal.")


class PortalSpec(PortalEntry):
    """A portal after the user's entry is merged over the shipped one: complete, column URLs joined."""

    name: NonEmpty = Field(description="The bureau's name.")
    region_code: RegionCode = Field(description="Six-digit GB/T 2260 code.")
    family: Family = Field(description="The CMS family.")
    columns: Annotated[list[ColumnSpec], Field(min_length=1)] = Field(
        description="a non-empty list of {name, kind, url} tables"
    )

    @model_validator(mode="after")
    def _complete(self) -> PortalSpec:
        for i, column in enumerate(self.columns):
            if not urlsplit(column.url).scheme:
                if not self.base_url:
                    raise _at(("columns", i, "url"), "is relative but the portal has no base_url")
                column.url = urljoin(self.base_url.rstrip("/") + "/", column.url.lstrip("/"))
        if self.family == "generic":
            for key in ("link", "body"):
                if not self.options.get(key):
                    raise _at(("options", key), "is required for the generic family (a CSS selector)")
        for key, value in self.options.items():
            if self.family != "generic" and not isinstance(value, str):
                raise _at(("options", key), f"must be a string, got {_show(value)}")
            if self.family == "generic" and key not in GENERIC_OPTIONS:
                raise _at(("options", key), "is not a generic-family option")
            problem = _css_error(value) if self.family == "generic" and value != "" else None  # "": left unset
            if problem:
                raise _at(("options", key), f"must be a CSS selector: {problem}")
        return self


def _css_error(value: Any) -> str | None:
    """Why ``value`` is not a CSS selector (parsel's dialect, ``::text``/``::attr()`` included), or None."""
    if not isinstance(value, str) or not value.strip():
        return f"got {value!r}"
    from cssselect import SelectorError  # imported only when a generic portal is configured
    from parsel.csstranslator import css2xpath

    try:
        css2xpath(value)
    except SelectorError as exc:  # syntax errors and untranslatable pseudo-classes
        return f"{value!r}: {exc}"
    return None


class ArchiveSpec(_Table):
    table: ClassVar[str] = "[archive] key"
    path: LocalPath = Field(DEFAULT_ARCHIVE, description="The archive's SQLite file, relative to the config file's "
                            "folder (the default, data/archive.db, is relative to the working directory).")  # fmt: skip


class AlertsSpec(_Table):
    table: ClassVar[str] = "[alerts] key"
    max_attempts: int = Field(8, ge=1, le=100, description="Tries before a delivery is dead.")
    backoff_base: Seconds = Field(60.0, le=86_400, description="Seconds before the 2nd try, doubled on every try.")
    backoff_max: Seconds = Field(3600.0, le=7 * 86_400, description="The longest wait between tries, in seconds.")
    backoff_jitter: float = Field(0.25, ge=0, lt=1, description="Each wait is multiplied by 1 ± this fraction.")
    lease_seconds: Seconds = Field(300.0, le=86_400, description="A claimed delivery comes back after this.")
    timezone: Annotated[str, AfterValidator(_timezone)] = Field(DEFAULT_TIMEZONE, description="Of every digest_cron.")
    archive_url: Annotated[str, AfterValidator(_archive_url)] = Field(
        DEFAULT_ARCHIVE_URL, description="Link to the archive record: {document_id}, {version_id}, {event_id}."
    )
    timeout: Seconds = Field(20.0, le=3600, description="Seconds per webhook or chat request.")
    batch_size: int = Field(50, ge=1, le=10_000, description="Deliveries claimed at a time.")
    concurrency: int = Field(8, ge=1, le=256, description="Sends in flight at once.")
    dispatch_deadline: Seconds = Field(60.0, le=3600, description="Seconds one dispatch pass may take; what is "
                                       "left is due again at once (a hung channel cannot hold up the others).")
    allow_loopback: bool = Field(False, description="Allow webhook targets on this machine (127.0.0.1, ::1, "
                                 "localhost): a local receiver. Link-local and metadata addresses are never allowed.")

    @model_validator(mode="after")
    def _lease(self) -> AlertsSpec:
        if self.lease_seconds <= self.timeout:
            raise _at(("lease_seconds",), f"must be longer than timeout ({self.timeout:g} s): a send still running"
                      " when its lease ends is sent again by the next dispatcher")  # fmt: skip
        return self


def _redis_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("redis", "rediss", "unix") or not (parts.netloc or parts.path):
        raise ValueError(f"must be a redis://, rediss:// or unix:// URL, got {value!r}")
    return value


class ClusterSpec(_Table):
    """Scale-out (docs/scale-out.md): with a Redis URL, ``yibao run`` queues crawls for ``yibao worker`` processes
    and ``yibao writer`` stores what they fetched; without it everything runs in one place."""

    table: ClassVar[str] = "[cluster] key"
    redis_url: Annotated[str, AfterValidator(_redis_url)] = Field(
        description="The Redis every role shares, e.g. redis://redis:6379/0 (a password as redis://:PASSWORD@host)."
    )


class SmtpSpec(_Table):
    table: ClassVar[str] = "[smtp] key"
    host: NonEmpty = Field(description="The relay's host name.")
    port: Maybe[Annotated[int, Field(ge=1, le=65535)]] = Field(None, description="Default 25 / 587 / 465 by security.")
    security: Literal["none", "starttls", "ssl"] = Field("none", description="none | starttls | ssl.")
    username_env: Maybe[EnvName] = Field(None, description="Environment variable holding the user name.")
    password_env: Maybe[EnvName] = Field(None, description="Environment variable holding the password.")
    sender: Annotated[str, AfterValidator(_email)] = Field(DEFAULT_SENDER, description='"Name <user@host>".')
    timeout: Seconds = Field(30.0, le=3600, description="Seconds per SMTP conversation step.")
    ca_file: Maybe[LocalPath] = Field(None, description="PEM bundle to trust instead of the system's, relative to "
                                      "the config file's folder.")  # fmt: skip

    @model_validator(mode="after")
    def _auth(self) -> SmtpSpec:
        if (self.username_env is None) != (self.password_env is None):
            raise _at(("password_env" if self.username_env else "username_env",), "is needed with the other one (auth)")
        return self


class WebhookSpec(_Table):
    table: ClassVar[str] = "webhook key"
    url: HttpUrl = Field(description="Where the signed JSON is POSTed.")
    secret_env: EnvName = Field(description="webhooks are always signed (name the variable holding the secret)")


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _since(value: Any) -> Any:
    """A watcher's ``since``: a TOML date (2025-01-01) or the same written as a string ("2025-01-01")."""
    text = value.strip() if isinstance(value, str) else None
    if text is not None and _ISO_DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    elif isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise ValueError(f'must be a date like "2025-01-01", got {_show(value)}')


SinceDate = Annotated[date, BeforeValidator(_since), WithJsonSchema({"type": "string", "format": "date"})]


class WatcherSpec(_Table):
    """A ``[[watchers]]`` entry: filters (every one set must match) and at least one channel."""

    table: ClassVar[str] = "watcher key"
    name: Annotated[str, AfterValidator(_watcher_name)] = Field(description="1-64 letters, digits, . - _; unique.")
    portals: Maybe[Many[NotBlank]] = Field(None, description="Portal ids (the event's or the document's).")
    regions: Maybe[Many[RegionCode]] = Field(None, description="Six-digit region codes; 350000 = the province.")
    kinds: Maybe[Many[DocumentKind]] = Field(None, description="Document kinds.")
    events: Maybe[Many[EventKind]] = Field(None, description="Default: the document events (ops watcher: ops ones).")
    keywords: Maybe[Many[NotBlank]] = Field(None, description="Any of these in the title, 文号 or body.")
    query: Maybe[NotBlank] = Field(None, description="A full-text query in storage.search syntax.")
    classes: Maybe[Many[ReplyClass]] = Field(None, description="答复类别 A-D (甲-丁).")
    mode: Literal["immediate", "digest"] = Field("immediate", description="immediate | digest.")
    digest_cron: Maybe[Cron] = Field(None, description="Five-field cron in [alerts] timezone (digest mode only).")
    email: Maybe[Many[Email]] = Field(None, description="Addresses, user@host or 名字 <user@host>.")
    webhook: Maybe[WebhookSpec] = Field(None, description="{ url = ..., secret_env = NAME }: a signed webhook.")
    apprise: Maybe[Many[Annotated[NotBlank, AfterValidator(_apprise_url)]]] = Field(
        None, description="Apprise URLs, or env:NAME to read one from the environment."
    )
    ops: bool = Field(False, description="true: this watcher gets operational alerts.")
    enabled: bool = Field(True, description="false turns the watcher off.")
    baseline: Literal["summary", "off", "every"] = Field(
        "summary", description="A portal's (or new column's) first crawl: summary = one message, off = none, "
        "every = one per document."
    )
    since: Maybe[SinceDate] = Field(None, description="Ignore documents published before this date (undated pass).")
    follow_citations: bool = Field(
        False, description="true: also hear when a document cited by a document these filters select is edited, "
        "withdrawn, superseded or expires (docs/citations.md)."
    )

    @model_validator(mode="after")
    def _mode(self) -> WatcherSpec:
        if (self.mode == "digest") != (self.digest_cron is not None):
            raise _at(("digest_cron",), 'is required with mode = "digest" (e.g. "0 8 * * *")' if self.mode == "digest"
                      else 'is only used with mode = "digest"')  # fmt: skip
        if not (self.email or self.webhook or self.apprise):
            raise _at(("email",), "no channel: give at least one of email, webhook, apprise")
        return self


class Registry(_Table):
    """The shipped registry, ``crawler/portals.toml``: every entry says where its facts come from."""

    table: ClassVar[str] = "section"
    portals: list[PortalEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ids(self) -> Registry:
        _unique(self.portals, "id", "portals")
        for i, portal in enumerate(self.portals):
            if portal.source is None:
                raise _at(("portals", i, "source"), "is missing: a shipped entry says where its facts come from")
        return self


class UserConfig(_Table):
    """The user config file, ``yibao.toml`` (or ``$YIBAO_CONFIG``, ``--config``)."""

    model_config = ConfigDict(title="yibao.toml")
    table: ClassVar[str] = "section"
    use_shipped: bool = Field(True, description="false: only the portals this file defines exist (the shipped "
                              "registry, crawler/portals.toml, is left out).")  # fmt: skip
    only: Maybe[Many[Annotated[str, Field(pattern=_ID)]]] = Field(
        None, description="Portal ids (shipped or this file's): only these are crawled, scheduled and listed."
    )
    portals: list[PortalEntry] = Field(default_factory=list, description="Override a shipped portal by id, or add one.")
    archive: ArchiveSpec = Field(default_factory=lambda: ArchiveSpec(), description="Where the archive lives.")
    alerts: Maybe[AlertsSpec] = Field(None, description="The alert dispatcher's settings (all optional).")
    smtp: Maybe[SmtpSpec] = Field(None, description="The mail relay, required when a watcher has email.")
    watchers: list[WatcherSpec] = Field(default_factory=list, description="Who hears about which events, how.")
    cluster: Maybe[ClusterSpec] = Field(None, description="Crawl workers and one archive writer over Redis.")

    @model_validator(mode="before")
    @classmethod
    def _portal_ids(cls, data: Any) -> Any:
        """``portals = ["id", …]`` (ids, not tables) is meant as a selection: say which key does that."""
        portals = data.get("portals") if isinstance(data, dict) else None
        ids = [entry for entry in portals if isinstance(entry, str)] if isinstance(portals, list) else []
        if ids:
            raise _at(("portals",), f"holds [[portals]] tables, not ids like \"{ids[0]}\"; to choose which portals "
                      f"run, write only = [\"{ids[0]}\", …] before the first table")  # fmt: skip
        return data

    @model_validator(mode="after")
    def _across(self) -> UserConfig:
        _unique(self.portals, "id", "portals")
        tz = ZoneInfo(self.alerts.timezone if self.alerts else DEFAULT_TIMEZONE)
        for i, watcher in enumerate(self.watchers):
            why = _never_fires(watcher.digest_cron, tz) if watcher.digest_cron else None
            if why:
                raise _at(("watchers", i, "digest_cron"),
                          f"must be a five-field cron expression, got {watcher.digest_cron!r} ({why})")  # fmt: skip
        _unique(self.watchers, "name", "watchers")
        for i, watcher in enumerate(self.watchers):
            if watcher.email and self.smtp is None:
                raise _at(("watchers", i, "email"), "needs an [smtp] section")
        return self


def _never_fires(expr: str, tz: Any) -> str | None:
    from core.cron import cron_trigger  # APScheduler: imported only when a digest is configured

    try:
        return None if cron_trigger(expr, tz).get_next_fire_time(None, datetime.now(tz)) else "it never fires"
    except ValueError as exc:
        return str(exc)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the user config file, for editors (``yibao config schema``)."""

    def tidy(node: Any) -> Any:  # TOML has no null: unset optional keys are simply absent
        if isinstance(node, list):
            return [tidy(v) for v in node]
        if not isinstance(node, dict):
            return node
        node = {k: tidy(v) for k, v in node.items() if not (k == "default" and v is None)}
        options = [o for o in node.pop("anyOf", ()) if o != {"type": "null"}]
        node = {**options[0], **node} if len(options) == 1 else {**node, "anyOf": options} if options else node
        if node.pop("oneOrMany", False):  # a single string is a one-element list
            array = {k: node.pop(k) for k in ("type", "items", "minItems")}
            node = {"anyOf": [array["items"], array], **node}
        return node

    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **tidy(UserConfig.model_json_schema())}


# --- validation and its one-line errors ----------------------------------------------------------------

M = TypeVar("M", bound=BaseModel)
Loc = tuple[str | int, ...]
_TYPES = {
    "string_type": "a string", "bool_type": "true or false", "int_type": "an integer", "float_type": "a number",
    "list_type": "a list", "dict_type": "a table", "model_type": "a table", "model_attributes_type": "a table",
}  # fmt: skip
_QUOTED = re.compile(r"'([^']*)'")
_BOUNDS = {"greater_than": ">", "greater_than_equal": ">=", "less_than": "<", "less_than_equal": "<="}


def validate(model: type[M], data: Any, *, source: str | None = None, context: dict[str, Any] | None = None,
             at: Loc = ()) -> M:  # fmt: skip
    """``model`` validated from ``data`` (a parsed TOML table, at ``at`` in its file), or ``ConfigError`` in one
    line naming ``source`` (the file), the entry and the field of the first problem."""
    root: Any = data
    for part in reversed(at):
        root = {part: root} if isinstance(part, str) else [root]
    bad = _bad_value(data)
    if bad is not None:
        raise config_error(source, root, (*at, *bad[0]), bad[1])
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = (*at, *error["loc"], *(error.get("ctx") or {}).get("loc", ()))
        raise config_error(source, root, loc, _problem(error, loc)) from None


def config_error(source: str | None, data: Any, loc: Loc, problem: str) -> ConfigError:
    """``<source>: <entry>: field '<name>' <problem>``, the entry and field named from ``loc`` in ``data``."""
    prefix = f"{source}: " if source else ""
    if len(loc) == 1 and loc[0] in ("portals", "watchers") and problem.startswith("must be a list"):
        got = problem.removeprefix("must be a list")
        return ConfigError(f"{prefix}'{loc[0]}' must be an array of tables ([[{loc[0]}]]){got}")
    where, rest = _where(data, loc)
    parts, entries = list(rest), list[int]()
    while parts and isinstance(parts[-1], int):  # a list's entry: "field 'email' entry 2: ..."
        entries.insert(0, int(parts.pop()))
    name = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts).lstrip(".")
    entry = "".join(f" entry {i + 1}" for i in entries) + (":" if entries else "")
    return ConfigError(f"{prefix}{where + ': ' if where else ''}field '{name}'{entry} {problem}")


def _where(data: Any, loc: Loc) -> tuple[str, Loc]:
    """The entry ``loc`` is in (``portal 'x' column 2``, ``watcher 'w'``, ``[smtp]``) and the rest of ``loc``."""
    if len(loc) >= 2 and loc[0] in ("portals", "watchers") and isinstance(loc[1], int):
        entries = data.get(loc[0]) if isinstance(data, dict) else None
        entry = entries[loc[1]] if isinstance(entries, list) and loc[1] < len(entries) else None
        label = entry.get("id" if loc[0] == "portals" else "name") if isinstance(entry, dict) else None
        named = isinstance(label, str) and label
        if loc[0] == "watchers":
            return (f"watcher {label!r}" if named else f"watcher #{loc[1] + 1}"), loc[2:] or ("watchers",)
        where, rest = (f"portal {label!r}" if named else "a portal entry"), loc[2:]
        if len(rest) >= 2 and rest[0] == "columns" and isinstance(rest[1], int):
            where, rest = f"{where} column {rest[1] + 1}", rest[2:] or ("columns",)
        return where, rest or ("portals",)
    if len(loc) >= 2 and loc[0] in ("archive", "alerts", "smtp"):
        return f"[{loc[0]}]", loc[1:]
    return "", loc


def _problem(error: Any, loc: Loc) -> str:
    kind, ctx, got = error["type"], error.get("ctx") or {}, f"got {_show(error.get('input'))}"
    if kind == "config":
        return str(ctx["problem"])
    if kind == "value_error":
        return str(ctx["error"])
    if kind == "missing":
        return "is missing"
    if kind in _TYPES:
        return f"must be {_TYPES[kind]}, {got}"
    if kind == "literal_error":
        return f"must be one of {', '.join(_QUOTED.findall(ctx['expected']))}, {got}"
    if kind == "string_pattern_mismatch":
        return f"{_PATTERNS.get(ctx['pattern'], 'must match ' + ctx['pattern'])}, {got}"
    if kind in ("too_short", "string_too_short"):
        return f"must not be empty, {got}"
    if kind == "finite_number":
        return f"must be a finite number, {got}"
    if kind in _BOUNDS:
        return f"must be {_BOUNDS[kind]} {next(iter(ctx.values())):g}, {got}"
    return f"{error['msg'][:1].lower()}{error['msg'][1:]}, {got}"


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    text = ("true" if value else "false") if isinstance(value, bool) else repr(value)
    return text if len(text) <= 80 else f"{text[:77]}..."


def _bad_value(data: Any) -> tuple[Loc, str] | None:
    """The first value nested too deeply or not a finite number (TOML's inf and nan), shallowest first."""
    queue: deque[tuple[Loc, Any]] = deque([((), data)])
    while queue:
        loc, value = queue.popleft()
        if len(loc) > MAX_NESTING:
            named = max(i for i, part in enumerate(loc) if isinstance(part, str))  # the key holding the nest
            return loc[: named + 1], f"nests tables or arrays more than {MAX_NESTING} deep"
        if isinstance(value, float) and not math.isfinite(value):
            return loc, f"must be a finite number, got {value}"
        if isinstance(value, dict):
            queue.extend(((*loc, k), v) for k, v in value.items())
        elif isinstance(value, list):
            queue.extend(((*loc, i), v) for i, v in enumerate(value))
    return None
