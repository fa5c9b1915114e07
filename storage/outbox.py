"""The alert outbox: durable delivery rows, written in the same transaction as the event they announce.

One row per (event, watcher, channel target), each with a unique ``idempotency_key``: a row is the
promise "this target will be told about this event". The dispatcher (``alerts.dispatch``) works only
through the functions here, so nothing about a delivery is ever held only in memory:

- ``enqueue`` (inside the event's transaction; ``INSERT OR IGNORE`` on the key, so re-routing is harmless);
- ``claim_due(now, limit, lease, max_attempts)``: in one ``BEGIN IMMEDIATE`` transaction, marks due rows
  ``sending`` with a claim token and a lease, and counts the attempt. Due = ``pending``/``failed`` with
  ``next_attempt_at <= now``, or ``sending`` with an expired lease (a dispatcher killed mid-send: its rows
  come back, and are sent again under the same idempotency key; the lost claim counted as an attempt).
  A ``sending`` row whose expired claims already used up ``max_attempts`` is not claimed again:
  ``exhausted_claims`` lists those, for the dispatcher to bury (``mark_dead(expired_by=now)``). Digest
  rows are claimed whole per (watcher, channel, target) and get a ``batch_key`` the first time, which
  stays theirs through retries;
- ``renew(ids, token, lease_until)``: a dispatcher extends the lease of what it still holds (a send in
  flight, or waiting for a free slot) so nobody else takes it over meanwhile;
- ``mark_sent`` / ``mark_failed(next_attempt_at)`` / ``mark_dead``: only while the caller still holds the
  claim (same token, still ``sending``), so a dispatcher whose lease ran out cannot overwrite a newer
  claim;
- ``release(ids, token, next_attempt_at)``: hand back claimed rows that were not tried after all (the
  dispatch pass reached its deadline, or their endpoint hung earlier in the pass): the attempt is
  uncounted;
- ``requeue`` (``yibao deliveries retry``) and ``list_deliveries`` / ``status_counts``.

Statuses: ``pending`` (never tried), ``sending`` (claimed), ``sent``, ``failed`` (last attempt failed, a retry
is scheduled at ``next_attempt_at``), ``dead`` (gave up; only ``requeue`` revives it).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from storage.db import to_utc_iso, write_transaction
from storage.filters import filtered_select

STATUSES = ("pending", "sending", "sent", "failed", "dead")
MODES = ("immediate", "digest")
DEFAULT_LEASE_SECONDS = 300
_CHUNK = 500

__all__ = [
    "MODES",
    "STATUSES",
    "Delivery",
    "claim_due",
    "delivery_key",
    "enqueue",
    "exhausted_claims",
    "get_delivery",
    "list_deliveries",
    "mark_dead",
    "mark_failed",
    "mark_sent",
    "release",
    "renew",
    "requeue",
    "status_counts",
]


@dataclass(frozen=True)
class Delivery:
    id: int
    idempotency_key: str
    event_id: int | None
    watcher: str
    channel: str
    target: str
    mode: str
    status: str
    attempts: int
    next_attempt_at: str
    claimed_at: str | None
    claim_token: str | None
    lease_until: str | None
    batch_key: str | None
    sent_at: str | None
    last_error: str | None
    created_at: str
    payload_json: str | None

    @property
    def payload(self) -> dict[str, Any] | None:
        return json.loads(self.payload_json) if self.payload_json else None

    @property
    def delivery_id(self) -> str:
        """What the receiver sees as the delivery id: the batch key of a digest, else the row's key."""
        return self.batch_key or self.idempotency_key


_COLUMNS = ", ".join(Delivery.__dataclass_fields__)


def _rows(db: sqlite_utils.Database, sql: str, params: Sequence[Any] = ()) -> list[Delivery]:
    return [Delivery(*row) for row in db.execute(sql, list(params))]


def delivery_key(*parts: object) -> str:
    """A stable idempotency key: sha256 over the parts (event id, watcher, channel, target ...)."""
    text = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plus(now: str, seconds: float) -> str:
    base = datetime.fromisoformat(now.replace("Z", "+00:00"))
    return to_utc_iso(base.astimezone(UTC) + timedelta(seconds=seconds))


def enqueue(
    db: sqlite_utils.Database,
    *,
    key: str,
    event_id: int | None,
    watcher: str,
    channel: str,
    target: str,
    mode: str = "immediate",
    due_at: datetime | str | None = None,
    now: datetime | str | None = None,
    payload: dict[str, Any] | None = None,
) -> bool:
    """Add a delivery row (call it inside the event's write transaction). Returns False when a row with
    this key already exists (nothing is changed then)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    now = to_utc_iso(now)
    due = to_utc_iso(due_at) if due_at is not None else now
    with write_transaction(db):
        cursor = db.execute(
            "INSERT OR IGNORE INTO outbox (idempotency_key, event_id, watcher, channel, target, mode, status,"
            " attempts, next_attempt_at, created_at, payload_json) VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
            [
                key,
                event_id,
                watcher,
                channel,
                target,
                mode,
                due,
                now,
                json.dumps(payload, ensure_ascii=False, sort_keys=True) if payload is not None else None,
            ],
        )
    return cursor.rowcount == 1


_DUE = (
    "((status IN ('pending', 'failed') AND next_attempt_at <= :now)"
    " OR (status = 'sending' AND lease_until <= :now AND attempts < :max_attempts))"
)
_NO_LIMIT = 2**62


def claim_due(
    db: sqlite_utils.Database,
    now: datetime | str | None = None,
    *,
    limit: int = 50,
    lease: float = DEFAULT_LEASE_SECONDS,
    max_attempts: int | None = None,
    due_by: datetime | str | None = None,
) -> list[Delivery]:
    """Claim up to ``limit`` due rows (plus the rest of any digest group among them) for ``lease``
    seconds. Every returned row is ``sending`` with the same ``claim_token``; ``attempts`` counts this try.

    ``due_by`` (default ``now``) is the instant rows must be due by: a dispatch pass gives its start, so
    what it hands back or reschedules during the pass waits for the next pass. With ``max_attempts``, a
    ``sending`` row whose expired claims have used up the attempts is left for ``exhausted_claims``."""
    now = to_utc_iso(now)
    due = {"now": to_utc_iso(due_by) if due_by is not None else now,
           "max_attempts": _NO_LIMIT if max_attempts is None else max_attempts}
    with write_transaction(db):
        picked = db.execute(
            f"SELECT id, mode, watcher, channel, target, batch_key FROM outbox WHERE {_DUE}"
            " ORDER BY next_attempt_at, id LIMIT :limit",
            {**due, "limit": limit},
        ).fetchall()
        if not picked:
            return []
        ids = {row[0] for row in picked}
        groups = {(w, c, t) for _, mode, w, c, t, _ in picked if mode == "digest"}
        for watcher, channel, target in groups:  # a digest goes out whole
            more = db.execute(
                f"SELECT id FROM outbox WHERE mode = 'digest' AND watcher = :w AND channel = :c AND target = :t"
                f" AND {_DUE}",
                {"w": watcher, "c": channel, "t": target, **due},
            )
            ids.update(row[0] for row in more)
        token = uuid.uuid4().hex
        ordered = sorted(ids)
        for start in range(0, len(ordered), _CHUNK):
            chunk = ordered[start : start + _CHUNK]
            db.execute(
                "UPDATE outbox SET status = 'sending', attempts = attempts + 1, claimed_at = ?, claim_token = ?,"
                f" lease_until = ? WHERE id IN ({', '.join('?' * len(chunk))})",
                [now, token, _plus(now, lease), *chunk],
            )
        claimed = _rows(db, f"SELECT {_COLUMNS} FROM outbox WHERE claim_token = ? ORDER BY id", [token])
        fresh: dict[tuple[str, str, str], list[Delivery]] = {}
        for row in claimed:
            if row.mode == "digest" and row.batch_key is None:
                fresh.setdefault((row.watcher, row.channel, row.target), []).append(row)
        for (watcher, channel, target), rows in fresh.items():
            batch = delivery_key("digest", watcher, channel, target, *sorted(r.idempotency_key for r in rows))
            db.execute(
                f"UPDATE outbox SET batch_key = ? WHERE id IN ({', '.join('?' * len(rows))})",
                [batch, *(r.id for r in rows)],
            )
        if fresh:
            claimed = _rows(db, f"SELECT {_COLUMNS} FROM outbox WHERE claim_token = ? ORDER BY id", [token])
    return claimed


def exhausted_claims(db: sqlite_utils.Database, now: datetime | str | None, max_attempts: int) -> list[Delivery]:
    """``sending`` rows whose lease has expired and whose claims have used up ``max_attempts``: each of
    their dispatchers died (or hung) before it could mark them. ``claim_due(max_attempts=...)`` leaves them;
    the dispatcher marks them dead (``mark_dead(..., expired_by=now)`` with the row's own token)."""
    return _rows(
        db,
        f"SELECT {_COLUMNS} FROM outbox WHERE status = 'sending' AND lease_until <= ? AND attempts >= ?"
        " ORDER BY id",
        [to_utc_iso(now), max_attempts],
    )


def _update_claimed(
    db: sqlite_utils.Database,
    ids: Iterable[int],
    token: str,
    assignments: str,
    params: Sequence[Any],
    *,
    keep_lease: bool = False,
    expired_by: str | None = None,
) -> int:
    ids = list(ids)
    done = 0
    lease = "" if keep_lease else ", lease_until = NULL"
    expired = "" if expired_by is None else " AND lease_until <= ?"
    with write_transaction(db):
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            cursor = db.execute(
                f"UPDATE outbox SET {assignments}{lease}"
                f" WHERE status = 'sending' AND claim_token = ?{expired} AND id IN ({', '.join('?' * len(chunk))})",
                [*params, token, *([] if expired_by is None else [expired_by]), *chunk],
            )
            done += cursor.rowcount
    return done


def renew(db: sqlite_utils.Database, ids: Iterable[int], token: str, lease_until: datetime | str) -> list[int]:
    """Extend the lease of the rows ``token`` still holds; returns their ids (the others were lost: their
    lease had expired and another dispatcher claimed them, so they must not be sent from here)."""
    ids = list(ids)
    until = to_utc_iso(lease_until)
    held: list[int] = []
    with write_transaction(db):
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            db.execute(
                f"UPDATE outbox SET lease_until = ? WHERE status = 'sending' AND claim_token = ? AND id IN ({marks})",
                [until, token, *chunk],
            )
            held.extend(row[0] for row in db.execute(
                f"SELECT id FROM outbox WHERE status = 'sending' AND claim_token = ? AND id IN ({marks})",
                [token, *chunk],
            ))
    return sorted(held)


def mark_sent(db: sqlite_utils.Database, ids: Iterable[int], token: str, now: datetime | str | None = None) -> int:
    """Delivered. Returns how many rows were still held by ``token`` (and are now ``sent``)."""
    return _update_claimed(db, ids, token, "status = 'sent', sent_at = ?, last_error = NULL", [to_utc_iso(now)])


def mark_failed(
    db: sqlite_utils.Database, ids: Iterable[int], token: str, *, error: str, next_attempt_at: datetime | str
) -> int:
    """This attempt failed; try again at ``next_attempt_at``."""
    return _update_claimed(
        db, ids, token, "status = 'failed', last_error = ?, next_attempt_at = ?", [error, to_utc_iso(next_attempt_at)]
    )


def mark_dead(
    db: sqlite_utils.Database, ids: Iterable[int], token: str, *, error: str, expired_by: datetime | str | None = None
) -> int:
    """Give up (after the configured number of attempts). ``requeue`` revives the row. With ``expired_by``,
    only rows whose lease had expired by then (burying an ``exhausted_claims`` row under its old token:
    a dispatcher that renewed it is alive and still sending)."""
    expired = to_utc_iso(expired_by) if expired_by is not None else None
    return _update_claimed(db, ids, token, "status = 'dead', last_error = ?", [error], expired_by=expired)


def release(
    db: sqlite_utils.Database,
    ids: Iterable[int],
    token: str,
    *,
    next_attempt_at: datetime | str,
    error: str | None = None,
) -> int:
    """Hand back claimed rows that were not tried (a pass's deadline, an endpoint that hung earlier in the
    pass): the claim's attempt is uncounted, and the rows are due again at ``next_attempt_at``
    (``pending`` if never tried, else ``failed`` with their last error, or ``error`` if given)."""
    return _update_claimed(
        db,
        ids,
        token,
        "attempts = MAX(0, attempts - 1), status = CASE WHEN attempts <= 1 THEN 'pending' ELSE 'failed' END,"
        " next_attempt_at = ?, last_error = COALESCE(?, last_error), claim_token = NULL",
        [to_utc_iso(next_attempt_at), error],
    )


def requeue(
    db: sqlite_utils.Database,
    ids: Iterable[int] | None = None,
    *,
    all_dead: bool = False,
    now: datetime | str | None = None,
) -> int:
    """Make ``dead`` (or ``failed``) rows due now with a fresh attempt count: the given ids, or every dead
    row with ``all_dead``. A digest row keeps its batch (and so its delivery id). Returns the count."""
    now = to_utc_iso(now)
    sql = (
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ?, claim_token = NULL,"
        " lease_until = NULL WHERE "
    )
    with write_transaction(db):
        if all_dead:
            return db.execute(sql + "status = 'dead'", [now]).rowcount
        done = 0
        for delivery_id in ids or ():
            done += db.execute(sql + "status IN ('dead', 'failed') AND id = ?", [now, delivery_id]).rowcount
        return done


def get_delivery(db: sqlite_utils.Database, delivery_id: int) -> Delivery | None:
    rows = _rows(db, f"SELECT {_COLUMNS} FROM outbox WHERE id = ?", [delivery_id])
    return rows[0] if rows else None


def list_deliveries(
    db: sqlite_utils.Database,
    *,
    status: str | Sequence[str] | None = None,
    watcher: str | None = None,
    event_id: int | None = None,
    limit: int | None = None,
) -> list[Delivery]:
    """Rows in id order, filtered by status(es), watcher and event."""
    sql, params = filtered_select(
        _COLUMNS, "outbox", any_of=("status", status), equal=(("watcher", watcher), ("event_id", event_id)),
        limit=limit,
    )
    return _rows(db, sql, params)


def status_counts(db: sqlite_utils.Database) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(dict(db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall()))
    return counts
