"""The charts' monthly counts kept by triggers (migration m007) equal the counts grouped from the documents
and events themselves, after inserts, edits, withdrawals, a region move and deletions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from storage import open_db, record, write_transaction
from storage.browse import (
    monthly_changes,
    monthly_changes_scan,
    monthly_publications,
    monthly_publications_scan,
)
from tests.query.conftest import HAND, Archive


@pytest.mark.parametrize("by", ["province", "bureau"])
@pytest.mark.parametrize("since", ["0000-00", "2025-03"])
def test_kept_counts_equal_the_scan(archive: Archive, by: str, since: str) -> None:
    published = monthly_publications(archive.db, by=by, since=since)  # type: ignore[arg-type]
    assert published == monthly_publications_scan(archive.db, by=by, since=since)  # type: ignore[arg-type]
    assert published
    changed = monthly_changes(archive.db, by=by, since=since)  # type: ignore[arg-type]
    assert changed == monthly_changes_scan(archive.db, by=by, since=since)  # type: ignore[arg-type]
    assert changed or since != "0000-00"  # the archive has an edit and a withdrawal


def test_kept_counts_follow_every_write(tmp_path: Path) -> None:
    db = open_db(tmp_path / "a.db")

    def same() -> None:
        for by in ("province", "bureau"):
            assert monthly_publications(db, by=by) == monthly_publications_scan(db, by=by)  # type: ignore[arg-type]
            assert monthly_changes(db, by=by) == monthly_changes_scan(db, by=by)  # type: ignore[arg-type]

    with write_transaction(db):
        for key in ("rare_title", "phrase", "reply", "edited"):
            record(db, HAND[key], run_id=None, now="2025-08-18T02:00:00Z")
        record(db, replace(HAND["edited"], body_text="改了。"), run_id=None, now="2025-09-01T02:00:00Z")
        record(db, replace(HAND["phrase"], published_on="2024-01-02"), run_id=None, now="2025-09-02T02:00:00Z")
    same()
    (doc_id,) = db.execute("SELECT document_id FROM postings WHERE url = ?", [HAND["edited"].url]).fetchone()
    with write_transaction(db):  # a region move re-attributes the document's publication and its changes
        db.execute("UPDATE documents SET region_code = '510100', bureau = '成都市医疗保障局' WHERE id = ?", [doc_id])
    same()
    with write_transaction(db):
        db.execute("DELETE FROM events WHERE document_id = ? AND kind = 'edited'", [doc_id])
        db.execute("UPDATE documents SET published_on = NULL WHERE id = ?", [doc_id])
    same()
    assert monthly_changes(db) == [] or all(c.count > 0 for c in monthly_changes(db))
    db.close()
