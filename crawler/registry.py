"""The portal registry: ``crawler/portals.toml`` plus the user's config file, strictly validated.

A portal is data. ``load_registry()`` reads the shipped registry, applies the user's file
(``yibao.toml`` in the working directory, ``$YIBAO_CONFIG`` or an explicit path): a ``[[portals]]``
entry with a known id overrides fields of that portal, a new id adds a portal. The whole user file is
validated against the declared schema (``crawler.config_schema``) when it is loaded; every problem is one
``ConfigError`` line naming the file, the entry and the field. Relative paths in the file resolve against
its folder.
"""

from __future__ import annotations

import os
import tomllib
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
    portals: dict[str, Portal]
    archive_path: str = DEFAULT_ARCHIVE
    raw: dict[str, TomlValue] = field(default_factory=dict)  # the user file, validated, paths resolved (smtp, watchers)

    def enabled(self) -> list[Portal]:
        return [p for p in self.portals.values() if p.enabled]

    def get(self, portal_id: str) -> Portal:
        try:
            return self.portals[portal_id]
        except KeyError:
            raise ConfigError(f"unknown portal id {portal_id!r}; known: {', '.join(self.portals)}") from None


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
    """The shipped registry merged with the user's config file (explicit, $YIBAO_CONFIG, yibao.toml)."""
    shipped = validate(Registry, read_toml(REGISTRY_PATH), source=REGISTRY_PATH.name)
    entries: dict[str, tuple[dict[str, TomlValue], str]] = {
        p.id: (p.model_dump(exclude_unset=True), REGISTRY_PATH.name) for p in shipped.portals
    }
    user: UserConfig | None = None
    path = user_config_path(config)
    if path is not None:
        user = validate(UserConfig, read_toml(path), source=str(path), context={"base_dir": path.parent})
        for entry in user.portals:  # an override keeps the fields it does not name
            fields = entry.model_dump(exclude_unset=True)
            entries[entry.id] = ({**entries.get(entry.id, ({}, ""))[0], **fields}, str(path))
    portals = {
        pid: _portal(validate(PortalSpec, fields, source=source, at=("portals", 0)))
        for pid, (fields, source) in entries.items()
    }
    if user is None:
        return Config(portals=portals)
    return Config(portals=portals, archive_path=user.archive.path, raw=user.model_dump(exclude_unset=True))
