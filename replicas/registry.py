"""The replica portals' own registry, ``replicas/portals.toml``, rendered for a running server.

The file is a complete yibao config (``use_shipped = false`` and one ``[[portals]]`` table per replica) with
the fixed ports of ``python -m replicas serve`` (admin 8120, portals 8121..8125 in the file's order). Tests
and the demo serve the replicas on free ports: ``registry_toml(urls)`` renders the same entries with the
running server's base URLs, so a config never depends on the shipped registry's (real) column paths.

Like the rest of ``replicas/``, this imports nothing from the product: the TOML is written here.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["ADMIN_PORT", "REGISTRY_PATH", "load_entries", "portal_entries", "registry_toml", "render_toml"]

REGISTRY_PATH = Path(__file__).with_name("portals.toml")
ADMIN_PORT = 8120  # the documented ports: admin here, the portals on the next ones in registry order
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def load_entries() -> dict[str, dict[str, Any]]:
    """The replica registry's ``[[portals]]`` entries by id, in file order."""
    with REGISTRY_PATH.open("rb") as f:
        return {entry["id"]: entry for entry in tomllib.load(f)["portals"]}


def portal_entries(
    urls: Mapping[str, str], portal_ids: Iterable[str] = (), **fields: Any
) -> dict[str, dict[str, Any]]:
    """The entries of the portals served at ``urls`` (id -> base URL), all of them or ``portal_ids`` (in
    registry order), each with its ``base_url`` and the extra ``fields`` (e.g. ``schedule``, ``settings``)."""
    wanted = set(portal_ids) or set(urls)
    unknown = wanted - set(urls)
    if unknown:
        raise KeyError(f"not served: {sorted(unknown)}; served: {list(urls)}")
    return {
        pid: {**entry, "base_url": urls[pid], **fields}
        for pid, entry in load_entries().items()
        if pid in wanted
    }


def registry_toml(urls: Mapping[str, str], portal_ids: Iterable[str] = (), **fields: Any) -> str:
    """A config's portal part for replicas served at ``urls``: ``use_shipped = false`` then complete
    ``[[portals]]`` tables. It starts with a top-level key, so it goes first in a config file."""
    return render_toml(portal_entries(urls, portal_ids, **fields).values())


def render_toml(entries: Iterable[Mapping[str, Any]], *, use_shipped: bool = False) -> str:
    """``use_shipped = …`` and one ``[[portals]]`` table per entry (tables and arrays written inline)."""
    lines = [f"use_shipped = {_value(use_shipped)}", ""]
    for entry in entries:
        lines.append("[[portals]]")
        lines += [f"{_key(k)} = {_value(v)}" for k, v in entry.items()]
        lines.append("")
    return "\n".join(lines)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else json.dumps(key, ensure_ascii=False)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a TOML basic string
    if isinstance(value, Mapping):
        return (
            "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }" if value else "{}"
        )
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")
