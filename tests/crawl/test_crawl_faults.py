"""Bad input from the replicas' fault modes: recorded errors in the run, never a crash, nothing lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.crawl.test_crawl_e2e import crawl, query, write_config

PORTAL = "fujian_xiamen"


@pytest.fixture
def archived(make_replicas, tmp_path):
    """A world whose first crawl went well; returns (server, config)."""
    server = make_replicas(docs=40, seed=5)
    config = write_config(tmp_path, server)
    assert crawl(config, PORTAL)[PORTAL]["health"] == "ok"
    return server, config


def snapshot(tmp_path):
    return query(tmp_path, "SELECT d.id, d.title, d.status, v.comparison_hash FROM documents d"
                           " JOIN versions v ON v.id = d.latest_version_id ORDER BY d.id")


FAULTS = [
    pytest.param({"error_burst": 1000, "error_status": 503}, id="5xx"),
    pytest.param({"truncate": True, "path_prefix": "/zwgk/jytabl/2"}, id="truncated-details"),
    pytest.param({"malformed": True}, id="malformed-html"),
    pytest.param({"wrong_charset": "iso-8859-1"}, id="wrong-charset"),
    pytest.param({"redirect_loop": True, "path_prefix": "/zwgk/jytabl/2"}, id="redirect-loop"),
    pytest.param({"challenge": True}, id="412-challenge"),
    pytest.param({"huge": 3_000_000}, id="huge-pages"),
]


@pytest.mark.parametrize("faults", FAULTS)
def test_faults_never_crash_and_lose_nothing(archived, tmp_path, faults):
    server, config = archived
    world = server.world
    before = snapshot(tmp_path)
    for doc in world.docs(PORTAL)[:3]:  # give the spider something to re-fetch
        world.edit(doc.doc_id)
    world.set_faults(PORTAL, **faults)
    summary = crawl(config, PORTAL)[PORTAL]
    after = snapshot(tmp_path)
    assert len(after) == len(before)  # nothing lost, nothing duplicated
    assert all(row[2] == "active" for row in after)  # a faulty run never withdraws
    assert query(tmp_path, "SELECT COUNT(*) FROM events WHERE kind = 'withdrawn'")[0][0] == 0
    if "malformed" not in faults and "wrong_charset" not in faults and "huge" not in faults:
        assert summary["health"] != "ok" or summary["errors"] > 0, summary
    world.clear_faults(PORTAL)
    recovered = crawl(config, PORTAL)[PORTAL]
    assert recovered["health"] == "ok"


def test_wrong_charset_header_still_decodes(archived, tmp_path):
    server, config = archived
    world = server.world
    doc = world.publish(PORTAL)
    world.set_faults(PORTAL, wrong_charset="iso-8859-1")
    crawl(config, PORTAL)
    titles = [row[0] for row in query(tmp_path, "SELECT title FROM documents")]
    assert doc.title in titles


def test_kill_mid_crawl_then_rerun_equals_uninterrupted(make_replicas, tmp_path):
    killed_dir, clean_dir = tmp_path / "killed", tmp_path / "clean"
    killed_dir.mkdir()
    clean_dir.mkdir()
    server = make_replicas(docs=300, seed=9)
    config = write_config(killed_dir, server)
    cmd = [sys.executable, "-m", "cli.main", "--config", str(config), "crawl", "--fast", PORTAL]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    db = killed_dir / "archive.db"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill once some documents are stored, mid-crawl
        time.sleep(0.2)
        try:
            with sqlite3.connect(db) as conn:
                if conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0] >= 10:
                    break
        except sqlite3.Error:
            continue
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        partial = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
    assert 0 < partial < len(server.world.docs(PORTAL))
    crawl(config, PORTAL)
    crawl(write_config(clean_dir, server), PORTAL)

    def content(path):
        return query(path, "SELECT d.title, d.kind, d.doc_no, v.comparison_hash, d.status FROM documents d"
                           " JOIN versions v ON v.id = d.latest_version_id ORDER BY d.title, d.doc_no")

    assert content(killed_dir) == content(clean_dir)
    assert query(killed_dir, "SELECT COUNT(*) FROM versions")[0] == query(clean_dir, "SELECT COUNT(*) FROM versions")[0]
    assert query(killed_dir, "SELECT kind, COUNT(*) FROM events GROUP BY kind") == query(
        clean_dir, "SELECT kind, COUNT(*) FROM events GROUP BY kind")


def test_timeouts_are_recorded_errors(archived, tmp_path):
    server, config = archived
    world = server.world
    text = config.read_text(encoding="utf-8").replace(
        f'id = "{PORTAL}"\n', f'id = "{PORTAL}"\nsettings = {{ DOWNLOAD_TIMEOUT = 1, RETRY_TIMES = 1 }}\n', 1)
    config.write_text(text, encoding="utf-8")  # a short timeout for this portal only
    before = snapshot(tmp_path)
    for doc in world.docs(PORTAL)[:2]:
        world.edit(doc.doc_id)
    world.set_faults(PORTAL, slow=2.5, path_prefix="/zwgk/jytabl/2")
    summary = crawl(config, PORTAL)[PORTAL]
    assert summary["errors"] > 0
    assert summary["health"] == "failed"  # most detail fetches timed out
    assert snapshot(tmp_path) == before  # the timed-out pages changed nothing
