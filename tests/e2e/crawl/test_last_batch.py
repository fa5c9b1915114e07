"""A crawl's last batch of pages is written as soon as the crawl has nothing else to do, not when its batch
timer fires (``crawler.pipelines.archive_record``): with a timer of an hour, a small crawl still ends, with
every page stored."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from replicas.registry import portal_entries, render_toml
from tests.e2e.warm import yibao

PORTAL = "fujian_xiamen"


def test_the_last_batch_does_not_wait_for_its_timer(make_replicas, tmp_path: Path) -> None:
    server = make_replicas(docs=30, seed=5)
    entries = portal_entries(server.urls)
    for pid, entry in entries.items():
        if pid == PORTAL:  # batches of up to 1,000 pages that would wait an hour to fill
            entry["settings"] = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False,
                                 "YIBAO_STORE_BATCH": 1000, "YIBAO_STORE_BATCH_SECONDS": 3600}  # fmt: skip
        else:
            entry["enabled"] = False
    config = tmp_path / "yibao.toml"
    config.write_text(render_toml(entries.values()) + f'\n[archive]\npath = "{tmp_path / "archive.db"}"\n',
                      encoding="utf-8")  # fmt: skip
    done = yibao("--config", str(config), "crawl", "--json", PORTAL, timeout=180)  # the timer: 3,600 s
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout)
    assert summary[PORTAL]["health"] == "ok", summary
    expected = {d.identity for d in server.world.docs(PORTAL)}
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        (stored,) = conn.execute("SELECT COUNT(*) FROM documents").fetchone()
    assert stored == len(expected) > 0
