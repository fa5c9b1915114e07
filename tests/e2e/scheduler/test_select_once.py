"""``yibao run --once`` with a user file that chooses its portals: one portal of its own (``use_shipped =
false``) or a selection (``only``). Only those are crawled; the exit status is 0 when they are healthy."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from replicas.registry import portal_entries, render_toml
from tests.e2e import warm

ROOT = Path(__file__).resolve().parents[3]
# politeness off; a crawl's last batch of pages written 0.1 s after its first page, not 1 s (as in test_jobs.fast_config)
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "YIBAO_STORE_BATCH_SECONDS": 0.1}


def yibao(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return warm.yibao("--config", str(config), *args, timeout=180, cwd=ROOT)  # forked warm (tests/e2e/warm.py)


def requested(server) -> list[str]:
    return [pid for pid, stats in server.world.stats().items() if stats["total"]]


def test_run_once_with_a_one_portal_file_crawls_only_it_and_exits_0(make_replicas, tmp_path):
    server = make_replicas(docs=10, seed=6)
    config = tmp_path / "yibao.toml"  # nothing but one portal: use_shipped = false and its entry; due only
    # because never crawled (a */5 schedule made it due again when the first run crossed a 5-minute slot)
    entries = portal_entries(server.urls, ["fujian_xiamen"], schedule="0 0 1 1 *", settings=FAST)
    config.write_text(render_toml(entries.values()) + f'\n[archive]\npath = "{tmp_path / "archive.db"}"\n',
                      encoding="utf-8")  # fmt: skip
    done = yibao(config, "run", "--once")
    assert done.returncode == 0, done.stderr[-2000:]
    assert [line.split() for line in done.stdout.splitlines()] == [["fujian_xiamen", "ok"]]
    assert requested(server) == ["fujian_xiamen"]

    again = yibao(config, "run", "--once")
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout == "nothing due\n"
    status = yibao(config, "status", "--json")
    assert [row["portal"] for row in json.loads(status.stdout)] == ["fujian_xiamen"]


def test_run_once_with_only_crawls_just_the_selected_portals(make_replicas, tmp_path):
    server = make_replicas(docs=10, seed=6)
    config = tmp_path / "yibao.toml"
    config.write_text('only = ["nhsa"]\n' + server.registry_toml(schedule="0 0 1 1 *", settings=FAST)
                      + f'\n[archive]\npath = "{tmp_path / "archive.db"}"\n', encoding="utf-8")  # fmt: skip
    done = yibao(config, "run", "--once")
    assert done.returncode == 0, done.stderr[-2000:]
    assert [line.split() for line in done.stdout.splitlines()] == [["nhsa", "ok"]]
    assert requested(server) == ["nhsa"]
    server.world.set_faults("nhsa", broken_layout=True)  # the one selected portal broken: exit 1
    failed = yibao(config, "run", "--once", "nhsa")
    assert failed.returncode == 1
    assert "failed" in failed.stdout
