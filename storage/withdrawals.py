"""Withdrawal: declaring that a document was taken down, conservatively.

The rule: a document is marked ``withdrawn`` only when **every** one of its postings is gone, and a
posting is gone only after ``n_required`` (default 2) consecutive gone checks, where a gone check counts
only if

- it belongs to a run that finished normally and was classified healthy (``Run.healthy``: finish reason
  'finished', health 'ok'): a failed, blocked, partial or still-running run never counts, and
- the posting's portal is the run's portal and the URL was **not** in that run's listing
  (``note_listed``), and the fetch said 404 / soft-404 (the caller's judgement).

One run counts at most once per URL (rechecking twice in a run is harmless). Any sign of life (``record``,
``touch``, ``note_present``) resets the count; a withdrawn document that shows up again emits
``reappeared``.

Order of calls for one crawl: ``start_run`` -> crawl (``record``/``touch``/``note_listed``) ->
``finish_run(health=...)`` -> for each URL of ``unlisted_postings``: fetch it, then ``note_gone`` or
``note_present``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlite_utils

from storage.archive import OnEvent, get_posting, touch
from storage.db import to_utc_iso, write_transaction
from storage.events import EVENT_WITHDRAWN, Event, add_event
from storage.runs import get_run

DEFAULT_GONE_CHECKS = 2
_CHUNK = 500


def note_listed(
    db: sqlite_utils.Database,
    portal_id: str,
    urls: Iterable[str],
    *,
    run_id: int,
    now: datetime | str | None = None,
) -> int:
    """Record that this run's listing pages showed these URLs. Returns how many known postings matched."""
    now = to_utc_iso(now)
    urls = list(dict.fromkeys(urls))
    count = 0
    with write_transaction(db):
        for start in range(0, len(urls), _CHUNK):
            chunk = urls[start : start + _CHUNK]
            cursor = db.execute(
                "UPDATE postings SET last_listed_run = ?, last_listed_at = ?"
                f" WHERE portal_id = ? AND url IN ({', '.join('?' * len(chunk))})",
                [run_id, now, portal_id, *chunk],
            )
            count += cursor.rowcount
    return count


def unlisted_postings(db: sqlite_utils.Database, portal_id: str, *, run_id: int) -> list[str]:
    """Active postings of the portal that an earlier listing showed but this run's listing did not:
    the URLs to recheck after a healthy run."""
    rows = db.execute(
        "SELECT url FROM postings WHERE portal_id = ? AND status = 'active'"
        " AND last_listed_run IS NOT NULL AND last_listed_run != ? ORDER BY url",
        [portal_id, run_id],
    )
    return [row[0] for row in rows]


def note_gone(
    db: sqlite_utils.Database,
    url: str,
    *,
    run_id: int,
    now: datetime | str | None = None,
    n_required: int = DEFAULT_GONE_CHECKS,
    on_event: OnEvent | None = None,
) -> Event | None:
    """Count a 404 / soft-404 recheck of ``url`` in ``run_id`` (see the module rule).

    Returns the ``withdrawn`` event when this check made the document's last posting gone; otherwise
    None (also when the check does not count).
    """
    now = to_utc_iso(now)
    with write_transaction(db):
        run = get_run(db, run_id)
        posting = get_posting(db, url)
        if run is None or not run.healthy or posting is None:
            return None
        if posting.portal_id != run.portal_id or posting.last_listed_run == run_id:
            return None
        if posting.last_gone_run != run_id:
            checks = posting.gone_checks + 1
            db.execute(
                "UPDATE postings SET gone_checks = ?, last_gone_run = ?,"
                " status = CASE WHEN ? >= ? THEN 'gone' ELSE status END WHERE url = ?",
                [checks, run_id, checks, n_required, url],
            )
        event = _withdraw_if_all_gone(db, posting.document_id, run_id, now, run.portal_id, url)
        if event is not None and on_event is not None:
            on_event(db, event)
    return event


def note_present(
    db: sqlite_utils.Database,
    url: str,
    *,
    run_id: int | None,
    now: datetime | str | None = None,
    on_event: OnEvent | None = None,
) -> Event | None:
    """A recheck found the URL alive: reset its gone count (``reappeared`` if its document was withdrawn)."""
    return touch(db, url, run_id=run_id, now=now, on_event=on_event)


def _withdraw_if_all_gone(
    db: sqlite_utils.Database, document_id: int, run_id: int, now: str, portal_id: str, url: str
) -> Event | None:
    (alive,) = db.execute(
        "SELECT COUNT(*) FROM postings WHERE document_id = ? AND status != 'gone'", [document_id]
    ).fetchone()
    title, status, version_id = db.execute(
        "SELECT title, status, latest_version_id FROM documents WHERE id = ?", [document_id]
    ).fetchone()
    if alive or status == "withdrawn":
        return None
    db.execute("UPDATE documents SET status = 'withdrawn', withdrawn_at = ? WHERE id = ?", [now, document_id])
    return add_event(
        db,
        kind=EVENT_WITHDRAWN,
        document_id=document_id,
        version_id=version_id,
        changed_fields=["status"],
        now=now,
        summary=f"已撤下：{title}",
        run_id=run_id,
        portal_id=portal_id,
        url=url,
    )
