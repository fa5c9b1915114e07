"""Every table of an archive is either described for visitors or hidden in the web UI."""

from __future__ import annotations

from pathlib import Path

from storage import open_db
from webui.metadata import DATABASE, build_metadata

FTS_SHADOW_SUFFIXES = ("_data", "_idx", "_docsize", "_config", "_content")


def test_every_archive_table_is_described_or_hidden(tmp_path: Path) -> None:
    db = open_db(tmp_path / "archive.db")
    names = [n for n in db.table_names() if not n.endswith(FTS_SHADOW_SUFFIXES)]
    db.close()
    tables = build_metadata()["databases"][DATABASE]["tables"]
    undescribed = [n for n in names if not (tables.get(n, {}).get("hidden") or tables.get(n, {}).get("description"))]
    assert undescribed == []


def test_citation_internals_are_hidden_and_the_links_are_browsable() -> None:
    tables = build_metadata()["databases"][DATABASE]["tables"]
    assert tables["citation_targets"]["hidden"] is True
    for name in ("citations", "lineage", "policy_terms"):
        assert "hidden" not in tables[name]
        assert tables[name]["description"]
