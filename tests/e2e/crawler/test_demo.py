"""``yibao demo`` (what ``make demo`` runs): the whole loop on the replicas, end to end, as a user sees it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.demo
def test_demo_runs_the_whole_loop(tmp_path: Path) -> None:
    repo = Path(__file__).resolve().parents[3]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIBAO_", "SCRAPY_"))}
    env["PYTHONPATH"] = str(repo)
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "demo", "--docs", "30", "--keep", str(tmp_path / "demo")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    for kind in ("validity_changed", "edited", "withdrawn", "new"):
        assert f"[{kind:16s}]" in out, kind
    assert "BAD SIGNATURE" not in out
    assert out.count("signature ok") >= 4
    assert "$ yibao search 部分采纳 --kind suggestion_reply --limit 2" in out
    after = out.split("$ yibao search 部分采纳", 1)[1]
    assert "results" in after.splitlines()[1]  # "N results (showing 1–2)" or "N results"
    assert "【部分采纳】" in after  # the match marked off a terminal
    assert (tmp_path / "demo" / "archive.db").exists()
