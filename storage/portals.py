"""The ``portals`` table: a snapshot of the registry (``crawler/portals.toml`` stays the source of truth)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlite_utils

from storage.db import to_utc_iso, write_transaction

_FIELDS = ("id", "name", "region_code", "level", "family", "enabled")


def _get(portal: Any, name: str) -> Any:
    if isinstance(portal, Mapping):
        return portal.get(name, True if name == "enabled" else None)
    return getattr(portal, name, True if name == "enabled" else None)


def sync_portals(
    db: sqlite_utils.Database,
    portals: Iterable[Any],
    *,
    now: datetime | str | None = None,
    prune: bool = False,
) -> int:
    """Upsert the given portals (objects or mappings with id, name, region_code, level, family, enabled).

    With ``prune=True`` (pass the whole registry) portals not given are kept, since runs and postings
    refer to them, but set ``enabled = 0``. Returns the number of portals upserted.
    """
    now = to_utc_iso(now)
    rows = [[_get(p, name) for name in _FIELDS] for p in portals]
    with write_transaction(db):
        for row in rows:
            row[-1] = int(bool(row[-1]))
            db.execute(
                "INSERT INTO portals (id, name, region_code, level, family, enabled, synced_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                " region_code = excluded.region_code, level = excluded.level, family = excluded.family,"
                " enabled = excluded.enabled, synced_at = excluded.synced_at",
                [*row, now],
            )
        if prune:
            ids = [row[0] for row in rows]
            db.execute(
                f"UPDATE portals SET enabled = 0, synced_at = ? WHERE id NOT IN ({', '.join('?' * len(ids))})",
                [now, *ids],
            )
    return len(rows)
