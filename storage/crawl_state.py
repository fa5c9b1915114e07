"""What a spider needs to know of a portal before and while it crawls: its known postings and validators,
when it was last crawled and whether a crawl was cut short since, and the stored attachments of a page."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from storage.runs import FINISHED

TIME_LIMIT = "time_limit"  # storage.baselines.FINISH_TIME_LIMIT (a run cut by the time limit)


@dataclass(frozen=True)
class KnownPosting:
    url: str
    column: str | None
    etag: str | None
    last_modified: str | None
    first_seen_at: str
    last_fetched_at: str | None
    status: str  # active | gone


def known_postings(db: sqlite_utils.Database, portal_id: str) -> dict[str, KnownPosting]:
    """Every URL of ``portal_id`` the archive holds (withdrawn documents' URLs included)."""
    rows = db.execute(
        "SELECT url, column_name, etag, last_modified, first_seen_at, last_fetched_at, status "
        "FROM postings WHERE portal_id = ?",
        [portal_id],
    ).fetchall()
    return {row[0]: KnownPosting(*row) for row in rows}


@dataclass(frozen=True)
class RunHistory:
    """The portal's crawls as the one about to start sees them."""

    last_started_at: str | None  # start of the portal's latest crawl that ran to its end or to its time limit
    interrupted: bool  # the crawl before this one did not run to its end (killed, stopped, host unreachable)


def run_history(db: sqlite_utils.Database, portal_id: str) -> RunHistory:
    """``RunHistory`` of ``portal_id``. The crawl asking has opened its own run row already (the run recorder
    does at spider start, after closing the runs of dead crawls as interrupted): the newest row, when it is
    still open, is that crawl's own and is passed over."""
    rows = db.execute(
        "SELECT started_at, finished_at, finish_reason FROM runs WHERE portal_id = ? ORDER BY id DESC LIMIT 200",
        [portal_id],
    ).fetchall()
    if rows and rows[0][1] is None:
        rows = rows[1:]
    # a crawl stopped by its time limit revisited (or fetched) what it reached: the coverage share counts from it,
    # so a backfill cut into several runs spends each run on what is still missing, not on 304s of the last one
    last = next((started for started, _, reason in rows if reason in (FINISHED, TIME_LIMIT)), None)
    return RunHistory(last, interrupted=bool(rows) and rows[0][2] != FINISHED)


def posting_attachments(db: sqlite_utils.Database, url: str) -> list[dict[str, Any]]:
    """The attachments (as stored: name, url, sha256, size, text and the fetch state) of the latest version of
    the document posted at ``url``; [] for an unknown URL."""
    row = db.execute(
        "SELECT v.record_json FROM postings p JOIN documents d ON d.id = p.document_id"
        " JOIN versions v ON v.id = d.latest_version_id WHERE p.url = ?",
        [url],
    ).fetchone()
    if row is None:
        return []
    attachments = json.loads(row[0]).get("attachments") or []
    return [a for a in attachments if isinstance(a, dict)]
