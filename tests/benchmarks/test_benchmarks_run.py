"""The search and web UI benchmarks still run (on a tiny archive: their figures are not checked here,
only that every section prints and nothing errors)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import search_bench, webui_bench


def test_search_bench_measures_two_sizes_in_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "bench.db"
    search_bench.main(
        ["--docs", "150", "60", "--db", str(db), "--workers", "0", "--reps", "1", "--skip", "alternatives"]
    )
    out = capsys.readouterr().out
    assert "search over 60 documents" in out
    assert "search over 150 documents" in out  # topped up, not rebuilt
    assert sum(line.startswith("  2-char top 20 + snippets, default") for line in out.splitlines()) == 2
    assert "newest first (sort=newest)" in out
    assert "export jsonl 150 documents" in out
    assert "export csv   150 documents" in out


def test_webui_bench_gets_every_page(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    webui_bench.main(["--docs", "80", "--db", str(tmp_path / "ui.db"), "--workers", "0", "--reps", "1"])
    lines = [line for line in capsys.readouterr().out.splitlines() if " p50 " in line]
    assert len(lines) == len(webui_bench.pages(tmp_path / "ui.db"))
    assert all("[200×2]" in line for line in lines), lines  # every page answered, none timed out
