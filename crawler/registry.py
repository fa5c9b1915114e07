"""The portal registry: ``crawler/portals.toml`` plus the user's config file, strictly validated.

A portal is data. ``load_registry()`` reads the shipped registry, applies the user's file
(``yibao.toml`` in the working directory, ``$YIBAO_CONFIG`` or an explicit path): a ``[[portals]]``
entry with a known id overrides fields of that portal, a new id adds a portal. Every problem is
reported at load time naming the entry and the field.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

FAMILIES = ("trs", "sichuan", "gkmlpt", "hanweb", "generic")
COLUMN_KINDS = ("replies", "policies", "reports")
LEVELS = ("national", "province", "city", "county")
REGISTRY_PATH = Path(__file__).with_name("portals.toml")
DEFAULT_USER_CONFIG = "yibao.toml"
DEFAULT_ARCHIVE = "data/archive.db"

_ID = re.compile(r"[a-z][a-z0-9_]{1,63}")  # fullmatch: ``$`` would let a trailing newline through
_REGION = re.compile(r"[0-9]{6}")  # not ``\d``: that also matches full-width and other Unicode digits
# cron fields: minute, hour, day of month, month, day of week (0 or 7 = Sunday); names for the last two
_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
_CRON_NAMES = (
    {},
    {},
    {},
    {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)},
    {d: i for i, d in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))},
)
_PORTAL_KEYS = {
    "id", "name", "region_code", "province", "city", "level", "family", "base_url", "home", "columns",
    "allowed_domains", "schedule", "enabled", "options", "settings",
}
_COLUMN_KEYS = {"name", "kind", "url"}
GENERIC_OPTIONS = {"link": "", "title": "", "date": "", "body": "", "next_page": ""}


class ConfigError(ValueError):
    """A registry or config problem; the message names the entry and the field."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    url: str


@dataclass(frozen=True)
class Portal:
    id: str
    name: str
    region_code: str
    level: str
    family: str
    columns: tuple[Column, ...]
    allowed_domains: tuple[str, ...]
    province: str | None = None
    city: str | None = None
    base_url: str | None = None
    home: str | None = None
    schedule: str = "0 8 * * *"
    enabled: bool = True
    options: dict[str, Any] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    portals: dict[str, Portal]
    archive_path: str = DEFAULT_ARCHIVE
    raw: dict[str, Any] = field(default_factory=dict)  # the user file, for other sections (smtp, watchers)

    def enabled(self) -> list[Portal]:
        return [p for p in self.portals.values() if p.enabled]

    def get(self, portal_id: str) -> Portal:
        try:
            return self.portals[portal_id]
        except KeyError:
            raise ConfigError(f"unknown portal id {portal_id!r}; known: {', '.join(self.portals)}") from None


def _fail(where: str, field_name: str, problem: str) -> ConfigError:
    return ConfigError(f"{where}: field '{field_name}' {problem}")


def _cron_error(expr: str) -> str | None:
    """Why ``expr`` is not a five-field cron expression with values in range, or None."""
    fields = expr.split()
    if len(fields) != 5:
        return f"has {len(fields)} fields, not 5"
    for text, (label, low, high), names in zip(fields, _CRON_FIELDS, _CRON_NAMES, strict=True):
        for part in text.split(","):
            span, _, step = part.partition("/")
            if step and not (step.isascii() and step.isdigit() and int(step) > 0):
                return f"{label} step {step!r} is not a positive number"
            if span == "*":
                continue
            for value in span.split("-", 1) if "-" in span else [span]:
                number = names.get(value.lower()) if value.isascii() and not value.isdigit() else None
                if number is None and not (value.isascii() and value.isdigit()):
                    return f"{label} value {value!r} is not a number"
                number = int(value) if number is None else number
                if not low <= number <= high:
                    return f"{label} value {value!r} is out of range {low}-{high}"
    return None


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


def _check_url(where: str, field_name: str, url: Any) -> None:
    if not isinstance(url, str):
        raise _fail(where, field_name, f"must be an absolute http(s) URL string, got {url!r}")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(where, field_name, f"must be an absolute http(s) URL, got {url!r}")


def _columns(where: str, raw: Any, base_url: str | None) -> tuple[Column, ...]:
    if not isinstance(raw, list) or not raw:
        raise _fail(where, "columns", "must be a non-empty list of {name, kind, url} tables")
    out = []
    for i, col in enumerate(raw):
        cw = f"{where} column {i + 1}"
        if not isinstance(col, dict):
            raise _fail(cw, "columns", "must be a table")
        unknown = set(col) - _COLUMN_KEYS
        if unknown:
            raise _fail(cw, sorted(unknown)[0], "is not a known column key (name, kind, url)")
        for key in ("name", "kind", "url"):
            if not isinstance(col.get(key), str) or not col[key]:
                raise _fail(cw, key, "is missing")
        if col["kind"] not in COLUMN_KINDS:
            raise _fail(cw, "kind", f"must be one of {', '.join(COLUMN_KINDS)}, got {col['kind']!r}")
        url = col["url"]
        if not urlsplit(url).scheme:
            if not base_url:
                raise _fail(cw, "url", "is relative but the portal has no base_url")
            url = urljoin(base_url.rstrip("/") + "/", url.lstrip("/"))
        _check_url(cw, "url", url)
        out.append(Column(col["name"], col["kind"], url))
    return tuple(out)


def _build_portal(raw: dict[str, Any], source: str) -> Portal:
    pid = raw.get("id")
    where = f"{source}: portal {pid!r}" if pid else f"{source}: a portal entry"
    if not isinstance(pid, str) or not _ID.fullmatch(pid):
        raise _fail(where, "id", "must be lower-case ascii (letters, digits, _), 2-64 chars")
    unknown = set(raw) - _PORTAL_KEYS
    if unknown:
        raise _fail(where, sorted(unknown)[0], "is not a known portal key")
    for key in ("name", "region_code", "family"):
        if raw.get(key) is None or raw[key] == "":
            raise _fail(where, key, "is missing")
        if not isinstance(raw[key], str):
            raise _fail(where, key, f"must be a string, got {raw[key]!r}")
    if raw["family"] not in FAMILIES:
        raise _fail(where, "family", f"must be one of {', '.join(FAMILIES)}, got {raw['family']!r}")
    if not _REGION.fullmatch(raw["region_code"]):
        raise _fail(where, "region_code", "must be a six-digit GB/T 2260 code")
    level = raw.get("level", "city")
    if level not in LEVELS:
        raise _fail(where, "level", f"must be one of {', '.join(LEVELS)}")
    base_url = raw.get("base_url")
    if base_url is not None:
        _check_url(where, "base_url", base_url)
    schedule = raw.get("schedule", "0 8 * * *")
    if not isinstance(schedule, str) or _cron_error(schedule) is not None:
        why = _cron_error(schedule) if isinstance(schedule, str) else "is not a string"
        raise _fail(where, "schedule", f"must be a five-field cron expression, got {schedule!r} ({why})")
    for key, kind, label in (("enabled", bool, "true or false"), ("settings", dict, "a table")):
        if key in raw and not isinstance(raw[key], kind):
            raise _fail(where, key, f"must be {label}, got {raw[key]!r}")
    domains = raw.get("allowed_domains")
    if domains is not None and not (isinstance(domains, list) and all(isinstance(d, str) and d for d in domains)):
        raise _fail(where, "allowed_domains", "must be a list of host names")
    options = raw.get("options", {})
    if not isinstance(options, dict):
        raise _fail(where, "options", "must be a table")
    if raw["family"] == "generic":
        for key in ("link", "body"):
            if not options.get(key):
                raise _fail(where, f"options.{key}", "is required for the generic family (a CSS selector)")
        bad = set(options) - set(GENERIC_OPTIONS)
        if bad:
            raise _fail(where, f"options.{sorted(bad)[0]}", "is not a generic-family option")
        for key, value in options.items():
            problem = _css_error(value) if value != "" else None  # "" = an optional selector left unset
            if problem:
                raise _fail(where, f"options.{key}", f"must be a CSS selector: {problem}")
    columns = _columns(where, raw.get("columns"), base_url)
    domains = domains or sorted({urlsplit(c.url).hostname or "" for c in columns})
    return Portal(
        id=pid,
        name=raw["name"],
        region_code=raw["region_code"],
        level=level,
        family=raw["family"],
        columns=columns,
        allowed_domains=tuple(domains),
        province=raw.get("province"),
        city=raw.get("city"),
        base_url=base_url,
        home=raw.get("home"),
        schedule=schedule.strip(),
        enabled=bool(raw.get("enabled", True)),
        options=options,
        settings=dict(raw.get("settings", {})),
    )


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None


def _merge_entries(entries: dict[str, dict[str, Any]], raw_list: Any, source: str) -> None:
    if not isinstance(raw_list, list):
        raise ConfigError(f"{source}: 'portals' must be an array of tables ([[portals]])")
    seen: set[str] = set()
    for raw in raw_list:
        pid = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(pid, str):
            raise _fail(f"{source}: a portal entry", "id", "is missing")
        if pid in seen:
            raise _fail(f"{source}: portal {pid!r}", "id", "is duplicated")
        seen.add(pid)
        entries[pid] = {**entries.get(pid, {}), **raw}


def user_config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("YIBAO_CONFIG")
    if env:
        return Path(env)
    default = Path(DEFAULT_USER_CONFIG)
    return default if default.exists() else None


def load_registry(config: str | os.PathLike[str] | None = None) -> Config:
    """The shipped registry merged with the user's config file (explicit, $YIBAO_CONFIG, yibao.toml)."""
    entries: dict[str, dict[str, Any]] = {}
    _merge_entries(entries, _read_toml(REGISTRY_PATH).get("portals", []), str(REGISTRY_PATH.name))
    user: dict[str, Any] = {}
    path = user_config_path(config)
    if path is not None:
        user = _read_toml(path)
        if "portals" in user:
            _merge_entries(entries, user["portals"], str(path))
    source = str(path) if path else REGISTRY_PATH.name
    portals = {pid: _build_portal(raw, source) for pid, raw in entries.items()}
    archive = user.get("archive", {}).get("path", DEFAULT_ARCHIVE) if isinstance(user.get("archive"), dict) else DEFAULT_ARCHIVE
    return Config(portals=portals, archive_path=archive, raw=user)
