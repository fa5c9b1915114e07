"""The pipeline benchmark runs the crawl's way (one parse, batched store) and prints every stage in documents per
CPU-second (a tiny corpus: the figures are not checked here, only that each stage is measured)."""

from __future__ import annotations

import pytest

from benchmarks import pipeline_bench


def test_pipeline_bench_prints_every_stage(capsys: pytest.CaptureFixture[str]) -> None:
    pipeline_bench.main(["--docs", "30", "--batch", "7"])
    out = capsys.readouterr().out
    for stage in ("extract (one parse", "normalize (build_record)", "store, 7 pages per transaction",
                  "store, 1 page per transaction", "pipeline"):  # fmt: skip
        assert any(line.strip().startswith(stage) and "docs/CPU-s" in line for line in out.splitlines()), stage
