from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils

from storage import finish_run, open_db, start_run
from tests.storage.factories import NOW


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "archive.db"


@pytest.fixture
def db(db_path: Path) -> sqlite_utils.Database:
    database = open_db(db_path)
    yield database
    database.close()


@pytest.fixture
def run_id(db: sqlite_utils.Database) -> int:
    return start_run(db, "fujian_ningde", now=NOW)


def healthy_run(db: sqlite_utils.Database, now: str, portal_id: str = "fujian_ningde") -> int:
    run = start_run(db, portal_id, now=now)
    finish_run(db, run, finish_reason="finished", health="ok", stats={"item_scraped_count": 3}, now=now)
    return run
