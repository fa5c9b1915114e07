"""The crawl state a spider starts from: known URLs and which of them to revisit this run.

Revisit policy: documents first seen recently (``YIBAO_REVISIT_YOUNG_DAYS``) are re-fetched every
run, older ones at most every ``YIBAO_REVISIT_OLD_INTERVAL_DAYS``, gone ones every run until the
withdrawal is settled; newest first, at most ``YIBAO_REVISIT_BUDGET`` a run. Re-fetches are
conditional (ETag / Last-Modified), so an unchanged document costs one 304.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scrapy.settings import BaseSettings

from crawler.dbpath import archive_path
from storage.crawl_state import KnownPosting, known_postings
from storage.db import open_db


@dataclass
class CrawlState:
    known: dict[str, KnownPosting] = field(default_factory=dict)

    def due_revisits(self, settings: BaseSettings, now: datetime) -> list[str]:
        young = timedelta(days=settings.getint("YIBAO_REVISIT_YOUNG_DAYS"))
        interval = timedelta(days=settings.getint("YIBAO_REVISIT_OLD_INTERVAL_DAYS"))
        due = []
        for posting in self.known.values():
            first = datetime.fromisoformat(posting.first_seen_at)
            fetched = datetime.fromisoformat(posting.last_fetched_at) if posting.last_fetched_at else first
            if posting.status == "gone" or now - first <= young or now - fetched >= interval:
                due.append((posting.status != "gone", -first.timestamp(), posting.url))
        due.sort()  # gone postings first, then the newest documents
        return [url for _, _, url in due[: settings.getint("YIBAO_REVISIT_BUDGET")]]


def load_state(settings: BaseSettings, portal_id: str) -> CrawlState:
    path = archive_path(settings)
    if not path.exists():
        return CrawlState()
    db = open_db(path)
    try:
        return CrawlState(known_postings(db, portal_id))
    finally:
        db.close()
