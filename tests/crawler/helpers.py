"""Shared by the tests of ``tests/crawler``: subprocess runners, config writers, the archive, a local site.

Everything runs for real: ``yibao`` / ``scrapy`` subprocesses with the project's interpreter, a real
SQLite archive, the replica portals (``tests/conftest.py``) and, where a test needs pages the replicas
do not serve (offsite links, redirects, header capture), a tiny ``http.server`` on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from replicas.registry import load_entries, portal_entries, render_toml

REPO = Path(__file__).resolve().parents[2]  # the project root: scrapy.cfg, crawler/, spiders/
SHIPPED_REGISTRY = REPO / "crawler" / "portals.toml"
SHIPPED = tuple(p["id"] for p in tomllib.loads(SHIPPED_REGISTRY.read_text(encoding="utf-8"))["portals"])  # real
REPLICAS = tuple(load_entries())  # the replica portals (replicas/portals.toml), in registry (and port) order
TIMEOUT = 120


def clean_env(**extra: str) -> dict[str, str]:
    """The environment of a subprocess: no inherited ``YIBAO_*`` / Scrapy settings, repo importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YIBAO_", "SCRAPY_"))}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def run(
    cmd: list[str], *, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd,
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def yibao(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``yibao ARGS`` (the console script of this interpreter's environment, else ``-m cli.main``)."""
    script = Path(sys.executable).with_name("yibao")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "cli.main"]
    return run([*cmd, *args], cwd=cwd, env=env)


def scrapy(
    *args: str, cwd: Path = REPO, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``scrapy ARGS`` run from the project root (where ``scrapy.cfg`` is)."""
    return run([sys.executable, "-m", "scrapy", *args], cwd=cwd, env=env)


def crawl(config: Path, *portals: str, cwd: Path) -> tuple[int, dict[str, Any]]:
    """``yibao --config CONFIG crawl --fast --json PORTALS``: (exit code, per-portal summary)."""
    done = yibao("--config", str(config), "crawl", "--fast", "--json", *portals, cwd=cwd)
    assert done.returncode in (0, 1), done.stderr[-3000:]
    return done.returncode, json.loads(done.stdout)


def toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def write_config(path: Path, archive: Path | None, *entries: str, shipped: bool = False) -> Path:
    """A user config: the entries (``[[portals]]`` tables, ``replica_portals()`` text), ``[archive] path`` when
    given. Without ``shipped`` the file says ``use_shipped = false``: the real bureaus of the shipped registry
    stay out, so a crawl with no portal named never leaves 127.0.0.1. Top-level keys go first."""
    texts = [entry.strip() + "\n" for entry in entries]

    def order(text: str) -> int:  # top-level keys before the first table: keys only, keys then tables, tables
        has_tables = any(line.startswith("[") for line in text.splitlines())
        return 2 if text.startswith("[") else 1 if has_tables else 0

    parts = sorted(texts, key=order)
    if not shipped and not any(text.startswith("use_shipped") for text in texts):
        parts.insert(0, "use_shipped = false\n")
    parts += [f"[archive]\npath = {toml_str(str(archive))}\n"] if archive else []
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def replica_portals(server: Any, *portal_ids: str, disabled: tuple[str, ...] = (), **fields: Any) -> str:
    """``use_shipped = false`` and the complete replica entries (``replicas/portals.toml``) at ``server``'s
    URLs: every portal or ``portal_ids``; those in ``disabled`` get ``enabled = false``; ``fields`` go to each."""
    entries = portal_entries(server.urls, portal_ids, **fields)
    for portal_id in disabled:
        entries[portal_id]["enabled"] = False
    return render_toml(entries.values())


def override(portal_id: str, base_url: str, **fields: str) -> str:
    """A ``[[portals]]`` entry that points a shipped portal at ``base_url`` (its real column paths stay)."""
    extra = "".join(f"{k} = {toml_str(v)}\n" for k, v in fields.items())
    return f"[[portals]]\nid = {toml_str(portal_id)}\nbase_url = {toml_str(base_url)}\n{extra}"


def generic_portal(
    portal_id: str, column_url: str, *, kind: str = "replies", name: str = "通用测试局", **options: str
) -> str:
    """A ``[[portals]]`` entry of the generic family: one column, CSS selectors as options."""
    opts = ", ".join(f"{k} = {toml_str(v)}" for k, v in options.items())
    return (
        f'[[portals]]\nid = {toml_str(portal_id)}\nname = {toml_str(name)}\nregion_code = "442000"\n'
        f'family = "generic"\noptions = {{ {opts} }}\n'
        f'columns = [ {{ name = "测试栏目", kind = {toml_str(kind)}, url = {toml_str(column_url)} }} ]\n'
    )


def query(archive: Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(archive)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def run_stats(archive: Path, portal_id: str) -> dict[str, Any]:
    """The Scrapy stats of the portal's last run, as the archive's ``runs.stats_json`` holds them."""
    rows = query(
        archive, "SELECT stats_json FROM runs WHERE portal_id = ? ORDER BY id DESC LIMIT 1", portal_id
    )
    assert rows, f"no run of {portal_id} in {archive}"
    assert rows[0][0], f"the last run of {portal_id} in {archive} did not finish"
    return json.loads(rows[0][0])


# -- a tiny local site ---------------------------------------------------------------------------


@dataclass
class Hit:
    method: str
    path: str
    user_agent: str
    at: float  # time.monotonic() when the request arrived


@dataclass
class LocalSite:
    """A static site on 127.0.0.1:<ephemeral> that records every request with its User-Agent.

    ``pages`` maps a path to ``(status, headers, body)``; unknown paths answer 404.
    """

    pages: dict[str, tuple[int, dict[str, str], str]] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    url: str = ""

    def page(self, path: str, body: str, status: int = 200, **headers: str) -> None:
        headers.setdefault("Content-Type", "text/html; charset=utf-8")
        self.pages[path] = (status, {k.replace("_", "-"): v for k, v in headers.items()}, body)

    def redirect(self, path: str, location: str) -> None:
        self.pages[path] = (302, {"Location": location, "Content-Type": "text/html"}, "")

    def paths(self) -> list[str]:
        return [h.path for h in self.hits]


@contextmanager
def local_site() -> Iterator[LocalSite]:
    site = LocalSite()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.hits.append(Hit("GET", self.path, self.headers.get("User-Agent", ""), time.monotonic()))
            status, headers, body = site.pages.get(
                self.path, (404, {"Content-Type": "text/html"}, "<html><body>404 Not Found</body></html>")
            )
            data = body.encode("utf-8")
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="local-site", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
