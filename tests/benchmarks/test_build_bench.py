"""The build benchmark runs and prints each of its figures (on a tiny archive: not checked here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import build_bench


def test_build_bench_prints_rate_cpu_merge_and_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "build.db"
    build_bench.main(["--docs", "40", "--db", str(db), "--workers", "0", "--batch", "15", "--sample", "10"])
    out = capsys.readouterr().out
    assert "bigram tokens (index_text)" in out
    assert "fresh=True" in out
    assert "archive of 40 documents: 40 loaded in" in out
    assert "CPU per document: writing" in out
    assert "documents_fts in 1 segments" in out  # merged
    build_bench.main(["--docs", "70", "--db", str(db), "--workers", "0", "--batch", "15", "--sample", "0", "--no-merge"])
    out = capsys.readouterr().out
    assert "fresh=False" in out  # a top-up goes through the WAL
    assert "archive of 70 documents: 30 loaded in" in out
    assert "documents_fts in 3 segments" in out  # one merged segment and two transactions, not merged


def test_a_saved_corpus_holds_the_generated_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(build_bench, "SLICE", 20)
    build_bench.save_corpus(tmp_path / "corpus", 50, workers=1)
    assert len(list((tmp_path / "corpus").glob("slice-*.pickle"))) == 3
    read = [rec for source in build_bench.saved_sources(tmp_path / "corpus", 5, 50) for rec in source()]
    assert read == build_bench.corpus_slice(build_bench.SEED, 5, 50)
    assert [len(source()) for source in build_bench.saved_sources(tmp_path / "corpus", 5, 50)] == [15, 20, 10]
