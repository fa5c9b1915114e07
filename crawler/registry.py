"""The portal registry: ``crawler/portals.toml`` plus the user's config file, strictly validated.

A portal is data. ``load_registry()`` reads the shipped registry, applies the user's file
(``yibao.toml`` in the working directory, ``$YIBAO_CONFIG`` or an explicit path): a ``[[portals]]``
entry with a known id overrides fields of that portal, a new id adds a portal. The file chooses which
portals exist: ``use_shipped = false`` leaves the shipped registry out (only the file's own portals),
``only = [ids]`` keeps just those. A portal left out that way, or one with ``enabled = false``, is never
crawled, and naming it (``yibao crawl ID``) is one ``ConfigError`` line saying so. The whole user file is
validated against the declared schema (``crawler.config_schema``) when it is loaded; every problem is one
``ConfigError`` line naming the file, the entry and the field. Relative paths in the file resolve against
its folder.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from core.config_errors import ConfigError
from crawler.config_schema import (
    COLUMN_KINDS,
    DEFAULT_ARCHIVE,
    FAMILIES,
    GENERIC_OPTIONS,
    LEVELS,
    PortalSpec,
    Registry,
    TomlValue,
    UserConfig,
    config_error,
    validate,
)

__all__ = [
    "COLUMN_KINDS", "DEFAULT_ARCHIVE", "FAMILIES", "GENERIC_OPTIONS", "LEVELS", "REGISTRY_PATH", "Column", "Config",
    "ConfigError", "Portal", "load_registry", "read_toml", "user_config_path",
]  # fmt: skip

REGISTRY_PATH = Path(__file__).with_name("portals.toml")
DEFAULT_USER_CONFIG = "yibao.toml"


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
    verified: bool = False  # checked against the live site by someone
    source: str | None = None  # where the entry's facts come from
    options: dict[str, str] = field(default_factory=dict)
    settings: dict[str, TomlValue] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    portals: dict[str, Portal]  # the portals in use (enabled or not), registry order
    archive_path: str = DEFAULT_ARCHIVE
    raw: dict[str, TomlValue] = field(default_factory=dict)  # the user file, validated (smtp, watchers)
    left_out: dict[str, str] = field(default_factory=dict)  # id -> why it is not in use (use_shipped, only)
    disabled_in: dict[str, str] = field(default_factory=dict)  # id -> the file that says enabled = false

    def enabled(self) -> list[Portal]:
        return [p for p in self.portals.values() if p.enabled]

    def get(self, portal_id: str, *, include_disabled: bool = False) -> Portal:
        """The portal to crawl; ``ConfigError`` in one line when it is unknown, left out or disabled
        (``include_disabled``: a disabled portal too, e.g. to check it before enabling it)."""
        portal = self.portals.get(portal_id)
        if portal is None and portal_id in self.left_out:
            raise ConfigError(f"portal {portal_id!r} is not in use: {self.left_out[portal_id]}")
        if portal is None:
            raise ConfigError(f"unknown portal id {portal_id!r}; known: {', '.join(self.portals)}")
        if not portal.enabled and not include_disabled:
            where = self.disabled_in.get(portal_id, REGISTRY_PATH.name)
            if where == REGISTRY_PATH.name:
                where = "the shipped registry, crawler/portals.toml, whose source note says why"
            raise ConfigError(f"portal {portal_id!r} is disabled (enabled = false in {where}); to crawl it, "
                              f'set enabled = true in its [[portals]] entry (id = "{portal_id}") of your config')  # fmt: skip
        return portal

    def crawlable(self, portal_ids: Iterable[str] = ()) -> list[Portal]:
        """The named portals (each must be in use and enabled), or every enabled one when none is named."""
        return [self.get(pid) for pid in portal_ids] if portal_ids else self.enabled()


def read_toml(path: Path) -> dict[str, TomlValue]:
    """A TOML file's tables, or ``ConfigError`` in one line: missing, unreadable, not UTF-8, not TOML."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark (some Windows editors) is fine
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}, column {column});"
                          " save the file as UTF-8") from None  # fmt: skip
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: not valid TOML: tables or arrays nested too deeply") from None


def _portal(spec: PortalSpec) -> Portal:
    columns = tuple(Column(c.name, c.kind, c.url) for c in spec.columns)
    domains = spec.allowed_domains or sorted({urlsplit(c.url).hostname or "" for c in columns})
    return Portal(**spec.model_dump(exclude={"columns", "allowed_domains"}), columns=columns,
                  allowed_domains=tuple(domains))  # fmt: skip


def user_config_path(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("YIBAO_CONFIG")
    if env:
        return Path(env)
    default = Path(DEFAULT_USER_CONFIG)
    return default if default.exists() else None


def load_registry(config: str | os.PathLike[str] | None = None) -> Config:
    """The shipped registry merged with the user's config file (explicit, $YIBAO_CONFIG, yibao.toml), narrowed
    to the portals the file chooses (``use_shipped``, ``only``)."""
    shipped = validate(Registry, read_toml(REGISTRY_PATH), source=REGISTRY_PATH.name)
    path = user_config_path(config)
    data = read_toml(path) if path is not None else {}
    user = validate(UserConfig, data, source=str(path), context={"base_dir": path.parent}) if path else None
    entries: dict[str, tuple[dict[str, TomlValue], str]] = {}
    disabled_in: dict[str, str] = {}
    left_out: dict[str, str] = {}
    for entry in shipped.portals:
        if user is None or user.use_shipped:
            entries[entry.id] = (entry.model_dump(exclude_unset=True), REGISTRY_PATH.name)
            disabled_in[entry.id] = REGISTRY_PATH.name
        else:
            left_out[entry.id] = f"{path} sets use_shipped = false and defines no portal {entry.id!r}"
    for entry in user.portals if user else ():  # an override keeps the fields it does not name
        fields = entry.model_dump(exclude_unset=True)
        entries[entry.id] = ({**entries.get(entry.id, ({}, ""))[0], **fields}, str(path))
        left_out.pop(entry.id, None)
        if "enabled" in fields or entry.id not in disabled_in:
            disabled_in[entry.id] = str(path)
    portals = {
        pid: _portal(validate(PortalSpec, fields, source=source, at=("portals", 0)))
        for pid, (fields, source) in entries.items()
    }
    if user is None:
        return Config(portals=portals, disabled_in=disabled_in)
    if user.only is not None:
        for i, pid in enumerate(user.only):
            if pid not in portals:
                why = f"; {path} sets use_shipped = false" if pid in left_out else ""
                raise config_error(str(path), data, ("only", i),
                                   f"names no portal: {pid!r}{why} (known: {', '.join(portals)})")  # fmt: skip
        listed = ", ".join(f'"{pid}"' for pid in user.only)
        for pid in [pid for pid in portals if pid not in user.only]:
            left_out[pid] = f"{path} sets only = [{listed}]"
            del portals[pid]
    return Config(portals=portals, archive_path=user.archive.path, raw=user.model_dump(exclude_unset=True),
                  left_out=left_out, disabled_in={pid: disabled_in[pid] for pid in portals})  # fmt: skip
