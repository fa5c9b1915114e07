"""Bad input from the replicas' fault modes: recorded errors in the run, never a crash, nothing lost."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from tests.e2e.crawl.test_crawl_e2e import crawl, query, write_config
from tests.e2e.warm import yibao

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
    # slow answers, so the crawl is still running when the poll below sees its first documents (the last
    # batch is written as soon as the crawl is idle: a fast crawl could finish between two polls)
    server.world.set_faults(PORTAL, slow=0.3)
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
    server.world.clear_faults(PORTAL)
    crawl(config, PORTAL)
    crawl(write_config(clean_dir, server), PORTAL)

    def content(path):  # as a sorted list: documents may share a title and lack a 文号 (yearly reports)
        return sorted(query(path, "SELECT d.title, d.kind, d.doc_no, v.comparison_hash, d.status FROM documents d"
                                  " JOIN versions v ON v.id = d.latest_version_id"), key=repr)

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


# --- a portal that does not answer, or answers from elsewhere (issue 13) ------------------------------------


def portal_at(tmp_path, url, **settings):
    """A config with fujian_xiamen's replica entry at ``url`` (with ``settings``) and the archive in tmp_path."""
    from replicas.registry import registry_toml

    path = tmp_path / "yibao.toml"
    fields = {"settings": settings} if settings else {}
    path.write_text(registry_toml({PORTAL: url}, [PORTAL], **fields) + f'\n[archive]\npath = "{tmp_path / "archive.db"}"\n',
                    encoding="utf-8")  # fmt: skip
    return path


def crawl_plain(config, *extra):
    """``yibao crawl`` as a user runs it (table output): (exit status, stdout, stderr, seconds)."""
    started = time.monotonic()
    done = yibao("--config", str(config), "crawl", *extra, PORTAL, timeout=240)  # forked warm (tests/e2e/warm.py)
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def log_lines(stderr):
    """The log lines of a crawl's stderr, without the progress line ``yibao crawl`` prints per portal."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("crawl ")]


def test_a_hung_portal_ends_unreachable_after_two_timeouts(tmp_path):
    """Accepts connections, never answers: the run stops after two timeouts in a row (robots.txt, then its retry)
    instead of waiting out every request's timeout and retries."""
    import socket

    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)  # the kernel accepts; nobody ever reads or answers
        config = portal_at(tmp_path, f"http://127.0.0.1:{hung.getsockname()[1]}", DOWNLOAD_TIMEOUT=3)
        code, out, err, seconds = crawl_plain(config)
    assert code == 1
    assert seconds < 3 * 3 + 15, seconds  # two timeouts and the start-up, not 4 attempts × every request
    assert query(tmp_path, "SELECT finish_reason, health FROM runs") == [("unreachable", "failed")]
    assert "Traceback" not in err
    lines = log_lines(err)
    assert len(lines) == 1, err
    assert "unreachable" in lines[0]
    assert "timeout" in lines[0]
    assert f"{PORTAL}: failed: unreachable" in out


def test_a_refused_connection_is_one_line(tmp_path):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, out, err, _ = crawl_plain(portal_at(tmp_path, f"http://127.0.0.1:{port}"))
    assert code == 1
    assert f"{PORTAL}: failed: unreachable" in out
    assert "Traceback" not in err
    lines = log_lines(err)
    assert len(lines) == 1, err
    assert "connection refused" in lines[0]
    assert "unreachable" in lines[0]
    assert query(tmp_path, "SELECT finish_reason, health FROM runs") == [("unreachable", "failed")]


def test_a_moved_portal_fails_naming_the_new_host(archived, tmp_path):
    from replicas.hostile import set_hostile

    server, config = archived
    before = snapshot(tmp_path)
    set_hostile(server.world, PORTAL, moved_to="http://new-host.example:8080")
    summary = crawl(config, PORTAL, "--full")[PORTAL]
    assert summary["health"] == "failed"
    assert summary["reason"] == "moved to new-host.example:8080"
    listed = len(server.world.docs(PORTAL))
    assert summary["errors"] == listed  # every page is an error, with the host it went to
    (stats,) = query(tmp_path, "SELECT stats_json FROM runs WHERE id = ?", summary["run"])[0]
    assert json.loads(stats)["yibao/redirected_offsite/new-host.example:8080"] == listed
    assert snapshot(tmp_path) == before  # nothing lost, nothing withdrawn
    set_hostile(server.world, PORTAL)
    assert crawl(config, PORTAL)[PORTAL]["health"] == "ok"


def test_one_page_redirected_off_the_portal_is_an_error_on_that_page(archived, tmp_path):
    from replicas.hostile import kind_of, set_hostile

    server, config = archived
    set_hostile(server.world, PORTAL, ("ok", "ok", "ok", "offsite"))
    summary = crawl(config, PORTAL, "--full")[PORTAL]
    offsite = [d for d in server.world.docs(PORTAL) if kind_of(server.world, d.doc_id) == "offsite"]
    assert summary["errors"] == len(offsite) > 0
    assert summary["health"] != "ok"
    assert summary["reason"] == "finished"  # some pages moved, not the portal
    (stats,) = query(tmp_path, "SELECT stats_json FROM runs WHERE id = ?", summary["run"])[0]
    assert json.loads(stats)["yibao/errors/offsite_redirect"] == len(offsite)


# --- runs: their own summary, never left open (issue 13) -----------------------------------------------------


def test_overlapping_crawls_each_report_their_own_run(archived, tmp_path):
    server, config = archived
    server.world.set_faults(PORTAL, slow=0.2, path_prefix="/zwgk/")  # long enough for the two to overlap
    cmd = [sys.executable, "-m", "cli.main", "--config", str(config), "crawl", "--fast", "--json", "--full", PORTAL]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.5)
    second = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    summaries = [json.loads(p.communicate(timeout=240)[0])[PORTAL] for p in (first, second)]
    runs = {run_id: json.loads(stats) for run_id, stats in query(tmp_path, "SELECT id, stats_json FROM runs WHERE id > 1")}
    assert sorted(s["run"] for s in summaries) == sorted(runs) == [2, 3]
    for s in summaries:
        assert s["requests"] == runs[s["run"]]["downloader/request_count"]


def wait_until(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except sqlite3.Error:
            pass
        time.sleep(0.2)
    raise AssertionError("timed out")


def documents_stored(tmp_path):
    with sqlite3.connect(tmp_path / "archive.db") as conn:
        return conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]


def runs_of(tmp_path):
    return query(tmp_path, "SELECT finish_reason, health FROM runs ORDER BY id")


def test_a_terminated_crawl_closes_its_run_as_interrupted(make_replicas, tmp_path):
    server = make_replicas(docs=120, seed=9)
    config = write_config(tmp_path, server)
    # 1 s a detail page: the fast crawl (8 at a time) lasts about 15 s, so the kill lands inside it even on a loaded
    # machine (at 0.3 s it lasted about 4.5 s, and a fresh clone's make test once saw it finish before the kill)
    server.world.set_faults(PORTAL, slow=1.0, path_prefix="/zwgk/")
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "--config", str(config), "crawl", "--fast", PORTAL],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_until(lambda: documents_stored(tmp_path) >= 3)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=60)
    assert runs_of(tmp_path) == [("interrupted", "failed")]


def test_a_killed_crawls_run_is_closed_at_the_next_start(make_replicas, tmp_path):
    from ops.portal_alerts import consecutive_bad
    from storage import open_db

    server = make_replicas(docs=120, seed=9)
    config = write_config(tmp_path, server)
    # 1 s a detail page: the fast crawl (8 at a time) lasts about 15 s, so the kill lands inside it even on a loaded
    # machine (at 0.3 s it lasted about 4.5 s, and a fresh clone's make test once saw it finish before the kill)
    server.world.set_faults(PORTAL, slow=1.0, path_prefix="/zwgk/")
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "--config", str(config), "crawl", "--fast", PORTAL],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    wait_until(lambda: documents_stored(tmp_path) >= 3)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert runs_of(tmp_path) == [(None, None)]  # left open: nobody could close it
    server.world.clear_faults(PORTAL)
    crawl(config, "nhsa")  # the next start of any crawl of the archive closes it
    assert runs_of(tmp_path)[0] == ("interrupted", "failed")
    with open_db(tmp_path / "archive.db") as db:
        assert consecutive_bad(db, PORTAL) == []  # not the portal's failure


def test_a_terminated_run_once_closes_its_run_as_interrupted(make_replicas, tmp_path):
    from ops.portal_alerts import consecutive_bad
    from storage import open_db

    server = make_replicas(docs=120, seed=9)
    # politeness off (as the scheduler's tests have it): with the default delay of about a second a request, the
    # crawl's graceful close after the signal waited out its eight queued requests one second apart (~10 s)
    config = tmp_path / "yibao.toml"
    config.write_text(server.registry_toml(settings={"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False})
                      + f'\n[archive]\npath = "{tmp_path / "archive.db"}"\n', encoding="utf-8")  # fmt: skip
    server.world.set_faults(PORTAL, slow=0.3, path_prefix="/zwgk/")
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "--config", str(config), "run", "--once", PORTAL, "nhsa"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    wait_until(lambda: documents_stored(tmp_path) >= 3)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=90)
    assert time.monotonic() - started < 90
    assert "Traceback" not in err, err[-3000:]
    assert runs_of(tmp_path) == [("interrupted", "failed")]  # and nhsa was not started after the signal
    assert "nhsa                   skipped" in out, out
    with open_db(tmp_path / "archive.db") as db:
        assert consecutive_bad(db, PORTAL) == []


def test_a_daemon_stopping_mid_crawl_is_no_portal_failure(make_replicas, tmp_path):
    import threading
    from pathlib import Path

    from crawler.registry import load_registry
    from ops.jobs import run_crawl
    from ops.portal_alerts import consecutive_bad
    from storage import open_db

    server = make_replicas(docs=120, seed=9)
    config = write_config(tmp_path, server)
    server.world.set_faults(PORTAL, slow=0.3, path_prefix="/zwgk/")
    stop = threading.Event()
    threading.Thread(target=lambda: (wait_until(lambda: documents_stored(tmp_path) >= 3), stop.set()),
                     daemon=True).start()  # fmt: skip
    portal = load_registry(str(config)).get(PORTAL)
    # two slow requests at a time: the crawl's 25 detail pages take about 4 s, so the stop (seen within 0.7 s of the
    # third stored document) lands mid-crawl even on a loaded machine; with eight at a time it took about 1 s and
    # the crawl could finish first
    outcome = run_crawl(portal, config_path=str(config), db_path=Path(tmp_path / "archive.db"), stop=stop,
                        extra_settings={"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "False",
                                        "CONCURRENT_REQUESTS_PER_DOMAIN": "2"})  # fmt: skip
    assert outcome.health == "failed"
    assert runs_of(tmp_path) == [("interrupted", "failed")]
    with open_db(tmp_path / "archive.db") as db:
        assert consecutive_bad(db, PORTAL) == []  # three such stops in a row would raise no portal-broken alert
