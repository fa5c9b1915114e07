"""Building filtered ``SELECT … ORDER BY id`` statements for the list functions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def filtered_select(
    columns: str,
    table: str,
    *,
    any_of: tuple[str, str | Sequence[str] | None] | None = None,
    equal: Sequence[tuple[str, Any]] = (),
    since: tuple[str, Any] | None = None,
    limit: int | None = None,
) -> tuple[str, list[Any]]:
    """SQL and parameters: ``any_of`` = (column, value or values), ``equal`` = (column, value) pairs
    (None values skipped), ``since`` = (column, lower bound); rows in id order."""
    where: list[str] = []
    params: list[Any] = []
    if since is not None and since[1] is not None:
        where.append(f"{since[0]} >= ?")
        params.append(since[1])
    if any_of is not None and any_of[1] is not None:
        values = [any_of[1]] if isinstance(any_of[1], str) else list(any_of[1])
        where.append(f"{any_of[0]} IN ({', '.join('?' * len(values))})")
        params.extend(values)
    for column, value in equal:
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = f"SELECT {columns} FROM {table}" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params
