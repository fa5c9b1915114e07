"""The state of one crawl run shared by the archive pipeline and the run recorder."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from core.records import DocumentRecord
from storage import open_db, start_run, sync_portals

COVERAGE_FIELDS = ("title", "kind", "published_on", "body_text", "doc_no", "index_no", "meeting", "deputies")


@dataclass
class RunContext:
    db: sqlite_utils.Database
    run_id: int
    gone: list[str] = field(default_factory=list)
    records: int = 0
    coverage: Counter[str] = field(default_factory=Counter)

    def record_coverage(self, rec: DocumentRecord) -> None:
        self.records += 1
        for name in COVERAGE_FIELDS:
            if getattr(rec, name):
                self.coverage[name] += 1


def run_context(crawler: Any, db_path: Path) -> RunContext:
    """The run context of this crawler, created (and the run row opened) on first use."""
    ctx = getattr(crawler, "yibao_run", None)
    if ctx is not None:
        return ctx
    db_path.parent.mkdir(parents=True, exist_ok=True)
    db = open_db(db_path)
    portal = crawler.spider.portal
    sync_portals(db, [portal])
    given = crawler.settings.get("YIBAO_RUN_ID")
    if given:
        ctx = RunContext(db, int(given))
    else:
        full = bool(getattr(crawler.spider, "full", False))
        ctx = RunContext(db, start_run(db, portal.id, now=datetime.now(UTC), full=full))
    crawler.yibao_run = ctx
    return ctx
