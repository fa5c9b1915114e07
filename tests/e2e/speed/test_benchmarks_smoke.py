"""The crawl comparison and the revisit benchmark run end to end at a tiny size (their figures are not
checked, only that every tool ran and every section printed).

The comparison's two sections (the crawls of a portal, then the start-up of each tool) are two tests, so that
the lane's workers run them side by side: each section starts its own portal and its own processes, and the
two tests together run exactly what ``crawl_compare.main`` runs for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import crawl_compare, revisit_bench


def tools() -> list[str]:
    """The tools ``crawl_compare.main`` compares here: urlwatch only where it is installed."""
    return ["bare", "yibao"] + (["urlwatch"] if crawl_compare.urlwatch_cmd() else [])


def test_crawl_compare_runs_every_tool_and_section(capsys: pytest.CaptureFixture[str]) -> None:
    crawl_compare.main(["--docs", "6", "--rounds", "1", "--skip", "pipeline", "startup"])
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith("  ") and line.split()]
    for tool in tools():
        assert sum(row[0] == tool for row in rows) >= 1, (tool, out)
    assert "exit code" not in out, out
    assert "yibao / bare: pages/s" in out
    assert "yibao warm / bare: pages/s" in out  # the first crawl forked warm, as the daemon makes it
    assert "yibao requests: 8 = robots 1 + lists 1 + revisits 6 (6 answered 304) + attachments 0" in out
    # the daemon's way: the unchanged cycle forked warm, with the same requests
    assert "yibao warm requests: 8 = robots 1 + lists 1 + revisits 6 (6 answered 304) + attachments 0" in out
    assert "start-up" not in out  # the other test's section


def test_crawl_compare_startup_section_runs_every_tool(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """The section ``crawl_compare.main`` runs after the crawls (as it runs it: one round, the same tools)."""
    crawl_compare.startup(1, tools(), tmp_path)
    out = capsys.readouterr().out
    assert "start-up: CPU s" in out
    # "  LABEL   0.21 CPU s": one figure (one round) per label
    figures = {label.strip(): float(value) for label, value, _, _ in
               (line[2:].rsplit(" ", 3) for line in out.splitlines() if line.endswith(" CPU s"))}  # fmt: skip
    assert "python -c pass" in figures, out
    assert "yibao --help" in figures, out
    assert "yibao run --once, nothing due (a cron tick)" in figures, out
    for tool in tools():
        assert f"{tool}: crawl of an empty portal" in figures, (tool, out)
    # the daemon's way: the empty crawl forked warm
    assert "yibao warm: crawl of an empty portal (forked)" in figures, out


def test_revisit_bench_sees_the_edit_within_the_period(capsys: pytest.CaptureFixture[str]) -> None:
    # two cycles of 84 h: each revisits half of the 30 documents, so the edit (to the document the catch-up
    # fetched last) must be seen by the second, 7 days after it
    assert revisit_bench.main(["--docs", "30", "--days", "7", "--every", "84", "--age", "30"]) == 0
    out = capsys.readouterr().out
    assert "first crawl of 30 documents" in out
    assert "catch-up cycle" in out
    assert "the edit's event recorded" in out
