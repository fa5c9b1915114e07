"""The crawl comparison and the revisit benchmark run end to end at a tiny size (their figures are not
checked, only that every tool ran and every section printed)."""

from __future__ import annotations

import pytest

from benchmarks import crawl_compare, revisit_bench


def test_crawl_compare_runs_every_tool_and_section(capsys: pytest.CaptureFixture[str]) -> None:
    crawl_compare.main(["--docs", "6", "--rounds", "1", "--skip", "pipeline"])
    out = capsys.readouterr().out
    tools = ["bare", "yibao"] + (["urlwatch"] if crawl_compare.urlwatch_cmd() else [])
    rows = [line.split() for line in out.splitlines() if line.startswith("  ") and line.split()]
    for tool in tools:
        assert sum(row[0] == tool for row in rows) >= 1, (tool, out)
    assert "exit code" not in out, out
    assert "yibao / bare: pages/s" in out
    assert "yibao warm / bare: pages/s" in out  # the first crawl forked warm, as the daemon makes it
    assert "yibao requests: 8 = robots 1 + lists 1 + revisits 6 (6 answered 304) + attachments 0" in out
    assert "yibao --help" in out
    assert "yibao: crawl of an empty portal" in out
    # the daemon's way: the unchanged cycle and the empty crawl forked warm, with the same requests
    assert "yibao warm requests: 8 = robots 1 + lists 1 + revisits 6 (6 answered 304) + attachments 0" in out
    assert "yibao warm: crawl of an empty portal (forked)" in out


def test_revisit_bench_sees_the_edit_within_the_period(capsys: pytest.CaptureFixture[str]) -> None:
    # three cycles of 56 h: each revisits a third of the 30 documents, so the edit must be seen by the third
    assert revisit_bench.main(["--docs", "30", "--days", "7", "--every", "56", "--age", "30"]) == 0
    out = capsys.readouterr().out
    assert "first crawl of 30 documents" in out
    assert "catch-up cycle" in out
    assert "the edit's event recorded" in out
