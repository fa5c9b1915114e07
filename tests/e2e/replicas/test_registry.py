"""The replica registry ``replicas/portals.toml``: a complete config of the replica portals, its entries match
what the replicas serve, ``registry_toml()`` renders it for a running server, and ``python -m replicas serve``
listens on the documented ports (admin 8120, the portals 8121..8125 in registry order)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.registry import load_registry
from replicas.registry import ADMIN_PORT, REGISTRY_PATH, load_entries, portal_entries, registry_toml
from replicas.server import ReplicaServer
from replicas.world import ReplicaWorld
from tests.e2e.warm import yibao
from tests.replicas.helpers import PORTALS, client

ROOT = Path(__file__).resolve().parents[3]
FIXED = tuple(range(ADMIN_PORT, ADMIN_PORT + 1 + len(PORTALS)))  # 8120..8125


def test_the_replica_registry_is_a_complete_config_of_the_replicas_on_their_fixed_ports():
    config = load_registry(REGISTRY_PATH)
    assert tuple(config.portals) == PORTALS == tuple(ReplicaWorld(docs=0).portals)  # registry order = world order
    assert set(config.left_out) >= {"chongqing", "fujian"}  # use_shipped = false: no real bureau in it
    for port, portal in enumerate(config.portals.values(), start=ADMIN_PORT + 1):
        assert portal.base_url == f"http://127.0.0.1:{port}"
        assert portal.enabled
        assert portal.verified  # the tests check every entry against the replicas
        assert portal.source
        assert "replicas/sites/" in portal.source
        assert portal.allowed_domains == ("127.0.0.1",)
        assert {c.kind for c in portal.columns} == {"replies", "policies", "reports"}
        for column in portal.columns:
            assert column.url.startswith(portal.base_url + "/")


def test_every_column_of_the_registry_is_served_and_lists_documents(replicas):
    config = load_registry(REGISTRY_PATH)
    with client() as http:
        for portal_id, portal in config.portals.items():
            site = replicas.world.site(portal_id)
            served_paths = {site.column_path(c.key) for c in site.bureau.columns}
            for column in portal.columns:
                path = urlsplit(column.url).path
                if "/gkmlpt/" not in path:  # a static column: the replica's own list
                    assert path in served_paths, (portal_id, path)
                resp = http.get(replicas.urls[portal_id] + path)
                assert resp.status_code == 200, (portal_id, column.url, resp.status_code)
    zhongshan = config.get("guangdong_zhongshan")
    classify_ids = {urlsplit(c.url).fragment for c in zhongshan.columns if "/gkmlpt/" in c.url}
    with client() as http:
        for classify in classify_ids:  # every gkmlpt category of the registry has posts in the replica's API
            api = f"{replicas.urls['guangdong_zhongshan']}/ybj/gkmlpt/api/all/{classify}"
            data = http.get(api, params={"page": 1, "sid": zhongshan.options["sid"]}).json()
            assert data["articles"], classify


def test_registry_toml_renders_the_entries_at_the_running_servers_urls(replicas):
    text = replicas.registry_toml()
    assert text.startswith("use_shipped = false\n")
    data = tomllib.loads(text)
    file_entries = load_entries()
    assert [p["id"] for p in data["portals"]] == list(file_entries) == list(replicas.urls)
    for entry in data["portals"]:
        assert entry["base_url"] == replicas.urls[entry["id"]]
        assert {k: v for k, v in entry.items() if k != "base_url"} == {
            k: v for k, v in file_entries[entry["id"]].items() if k != "base_url"
        }

    one = tomllib.loads(replicas.registry_toml("nhsa", settings={"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}))
    assert [p["id"] for p in one["portals"]] == ["nhsa"]
    assert one["portals"][0]["settings"] == {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False}

    with pytest.raises(KeyError, match="not served"):
        registry_toml(replicas.urls, ["chongqing"])


def test_registry_toml_is_a_config_the_registry_loads(replicas, tmp_path):
    path = tmp_path / "yibao.toml"
    path.write_text(replicas.registry_toml() + f'\n[archive]\npath = "{tmp_path / "a.db"}"\n', encoding="utf-8")
    config = load_registry(path)
    assert tuple(config.portals) == PORTALS
    assert config.get("sichuan").columns[0].url == replicas.urls["sichuan"] + "/scylbzj/c108923/list.shtml"
    assert config.archive_path == str(tmp_path / "a.db")


def _server_at_a_free_base(attempts: int = 8) -> tuple[ReplicaServer, int]:
    """A replica server on a base port the system just handed out and the ports after it; another base when
    one of those is taken meanwhile (the end-to-end lane's other workers bind ports too)."""
    failures = []
    for _ in range(attempts):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base > 65_000:
            base -= 1_000
        try:
            return ReplicaServer(ReplicaWorld(docs=0), base_port=base).start(), base
        except RuntimeError as exc:
            failures.append(f"{base}: {exc}")
    pytest.skip(f"no base port with {len(PORTALS)} free ports after it in {attempts} tries: {failures}")


def test_the_server_assigns_ports_in_registry_order():
    server, base = _server_at_a_free_base()
    try:
        assert server.admin_url == f"http://127.0.0.1:{base}"
        assert server.urls == {pid: f"http://127.0.0.1:{base + i}" for i, pid in enumerate(load_entries(), start=1)}
        assert portal_entries(server.urls)["nhsa"]["base_url"] == server.urls["nhsa"]
    finally:
        server.stop()


def _ports_in_use(ports: tuple[int, ...]) -> list[int]:
    busy = []
    for port in ports:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                busy.append(port)
    return busy


def test_python_m_replicas_serve_listens_on_the_documented_ports(tmp_path):
    busy = _ports_in_use(FIXED)
    if busy:
        pytest.skip(f"the documented ports are in use here ({busy}): another `make replicas` may be running")
    out = (tmp_path / "serve.out").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "replicas", "serve", "--docs", "5"], cwd=ROOT, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while "config for these portals" not in (tmp_path / "serve.out").read_text(encoding="utf-8"):
            assert proc.poll() is None, (tmp_path / "serve.out").read_text(encoding="utf-8")
            assert time.monotonic() < deadline, "python -m replicas serve printed nothing in 60 s"
            time.sleep(0.2)
        printed = (tmp_path / "serve.out").read_text(encoding="utf-8")
        assert "yibao --config replicas/portals.toml" in printed
        with client() as http:
            portals = http.get(f"http://127.0.0.1:{ADMIN_PORT}/portals").json()
            assert {pid: p["url"] for pid, p in portals.items()} == {
                pid: f"http://127.0.0.1:{port}" for pid, port in zip(PORTALS, FIXED[1:], strict=True)
            }
            for portal in load_registry(REGISTRY_PATH).portals.values():  # the registry as shipped answers
                assert http.get(portal.columns[0].url).status_code == 200, portal.columns[0].url

        again = subprocess.run([sys.executable, "-m", "replicas", "serve", "--docs", "0"], cwd=ROOT,
                               capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert again.returncode == 2
        (line,) = again.stderr.splitlines()
        assert line.startswith(f"python -m replicas: cannot listen on 127.0.0.1:{ADMIN_PORT}..{FIXED[-1]}: ")
        assert "--port 0" in line

        db = tmp_path / "archive.db"  # the replica registry is itself the config of a crawl of them
        done = yibao("--config", str(REGISTRY_PATH), "--db", str(db), "--json", "crawl", "--fast", "nhsa", cwd=tmp_path,
                     timeout=180)  # forked warm (tests/e2e/warm.py)
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(done.stdout)["nhsa"]["health"] == "ok"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        out.close()
