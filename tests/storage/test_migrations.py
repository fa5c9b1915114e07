from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from storage import migrations, open_db


def test_open_db_settings(db: sqlite_utils.Database) -> None:
    assert db.journal_mode == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    assert db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_schema_has_every_table(db: sqlite_utils.Database) -> None:
    expected = {"portals", "runs", "documents", "identity_keys", "postings", "versions", "events"}
    expected |= {"fingerprints", "fingerprint_bands", "meta", "documents_fts"}
    assert expected <= set(db.table_names())


def test_migrations_idempotent(db_path: Path) -> None:
    first = open_db(db_path)
    schema = first.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    first.close()
    for _ in range(2):
        again = open_db(db_path)
        assert migrations.pending(again) == []
        assert [m.name for m in migrations.applied(again)][:5] == [
            "m001_initial", "m002_outbox", "m003_browse_columns", "m004_facet_indexes", "m005_citations"
        ]
        assert again.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema
        migrations.apply(again)  # applying with nothing pending is a no-op
        assert len(migrations.applied(again)) == len(migrations._migrations)
        again.close()


def test_concurrent_first_open_does_not_race(db_path: Path) -> None:
    import concurrent.futures

    def opener(_: int) -> int:
        database = open_db(db_path)
        count = len(migrations.applied(database))
        database.close()
        return count

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        assert list(pool.map(opener, range(4))) == [len(migrations._migrations)] * 4


def test_versions_are_append_only(db: sqlite_utils.Database, run_id: int) -> None:
    from storage import record
    from tests.storage.factories import NOW, policy

    record(db, policy(), run_id=run_id, now=NOW)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE versions SET body_text = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM versions")


def test_foreign_keys_enforced(db: sqlite_utils.Database) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO postings (url, document_id, portal_id, first_seen_at, last_seen_at, content_hash)"
            " VALUES ('u', 999, 'p', 'x', 'x', 'h')"
        )
