"""The crawl state a spider starts from: known URLs, which of them to revisit this run, whether the last
crawl was cut short, and (looked up while crawling) the attachments already stored for a page.

Revisit policy (``plan_revisits``), re-fetches being conditional (ETag / Last-Modified: an unchanged
document costs one 304):

- coverage: every known document is revisited at least every ``YIBAO_REVISIT_OLD_INTERVAL_DAYS`` (T, 7 by
  default). Each run takes the least recently fetched documents, as many as the time since the portal's last
  finished crawl (Δ, at most T) is a share of T: ``ceil(N × Δ / T)`` of N documents. Whatever the runs'
  rhythm, the runs within any span of T take N documents in all, oldest fetch first, so none waits longer
  than T (plus the gap to the next run); a run costs N × Δ / T requests, a 10,000-document portal crawled
  three times a day about 480;
- young documents (first seen within ``YIBAO_REVISIT_YOUNG_DAYS``, 14) are revisited every run as well, at
  most ``YIBAO_REVISIT_BUDGET`` (200) of them a run, least recently fetched first (after the first crawl of a
  large portal every document is young: then they take turns, and coverage still holds);
- gone documents (404 or soft-404 last time) every run, until the withdrawal is settled.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils
from scrapy.settings import BaseSettings

from crawler.dbpath import archive_path
from storage.crawl_state import KnownPosting, RunHistory, known_postings, posting_attachments, run_history
from storage.db import open_db


@dataclass(frozen=True)
class RevisitPolicy:
    interval: timedelta  # every document at least this often
    young: timedelta  # first seen within this: every run
    young_budget: int  # young documents per run at most

    @classmethod
    def from_settings(cls, settings: BaseSettings) -> RevisitPolicy:
        return cls(interval=timedelta(days=settings.getfloat("YIBAO_REVISIT_OLD_INTERVAL_DAYS")),
                   young=timedelta(days=settings.getfloat("YIBAO_REVISIT_YOUNG_DAYS")),
                   young_budget=settings.getint("YIBAO_REVISIT_BUDGET"))  # fmt: skip


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def plan_revisits(
    postings: Iterable[KnownPosting], now: datetime, last_run_at: str | None, policy: RevisitPolicy
) -> list[str]:
    """The URLs to revisit this run (see the module's docstring): gone ones, then the coverage share, then
    young ones. ``last_run_at``: start of the portal's last finished crawl (None: as if T ago)."""
    gone: list[str] = []
    active: list[tuple[datetime, str]] = []
    young: list[tuple[datetime, str]] = []
    for posting in postings:
        if posting.status == "gone":
            gone.append(posting.url)
            continue
        first = _when(posting.first_seen_at)
        fetched = _when(posting.last_fetched_at) if posting.last_fetched_at else first
        active.append((fetched, posting.url))
        if now - first <= policy.young:
            young.append((fetched, posting.url))
    elapsed = now - _when(last_run_at) if last_run_at else policy.interval
    share = min(max(elapsed / policy.interval, 0.0), 1.0) if policy.interval > timedelta(0) else 1.0
    active.sort()  # least recently fetched first
    chosen = sorted(gone) + [url for _, url in active[: math.ceil(len(active) * share)]]
    taken = set(chosen)
    young.sort()
    extra = [url for _, url in young if url not in taken][: max(policy.young_budget, 0)]
    return chosen + extra


@dataclass
class CrawlState:
    known: dict[str, KnownPosting] = field(default_factory=dict)
    history: RunHistory = field(default_factory=lambda: RunHistory(None, interrupted=False))
    archive: Path | None = None
    _db: sqlite_utils.Database | None = field(default=None, repr=False)

    @property
    def resume(self) -> bool:
        """The portal's last crawl was cut short: read every list page this time (only unknown URLs fetched),
        so the pages it did not reach are found although the first list pages bring nothing new."""
        return self.history.interrupted

    def due_revisits(self, settings: BaseSettings, now: datetime) -> list[str]:
        return plan_revisits(self.known.values(), now, self.history.last_started_at,
                             RevisitPolicy.from_settings(settings))  # fmt: skip

    def stored_attachments(self, url: str) -> dict[str, dict[str, Any]]:
        """URL → stored attachment (as ``storage.crawl_state.posting_attachments``) of a known page; {} for a
        page the archive does not hold (no query then)."""
        if url not in self.known or self.archive is None or not self.archive.exists():
            return {}
        if self._db is None:
            self._db = open_db(self.archive, migrate=False)
        return {a["url"]: a for a in posting_attachments(self._db, url) if a.get("url")}

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None


def load_state(settings: BaseSettings, portal_id: str) -> CrawlState:
    path = archive_path(settings)
    if not path.exists():
        return CrawlState(archive=path)
    db = open_db(path)
    try:
        return CrawlState(known_postings(db, portal_id), run_history(db, portal_id), archive=path)
    finally:
        db.close()
