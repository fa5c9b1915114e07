"""Real receivers for the alert tests: an SMTP server (aiosmtpd) and an HTTP webhook receiver, both on
127.0.0.1 ephemeral ports, both able to fail or stall on demand, both recording everything they get.

``smtp``      a ``SmtpSink``: ``.messages`` (parsed ``EmailMessage``), ``.stop()`` / ``.start()`` (down/up on
              the same port), ``.fail_next(n)`` (451 for the next n messages), ``.hold`` (a threading.Event:
              while set, accepted messages are recorded but not answered).
``receiver``  a ``HookReceiver``: ``.requests`` (every request: path, status answered, headers, body),
              ``.delivered(path=None)`` (the 2xx ones), ``.fail_next(n, status=500)``, ``.hold``.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from replicas.ports import free_port  # the shared probe (tests.alerts.conftest.free_port for the e2e tests)

HOOK_SECRET = "s3cret-for-tests-签名"


def wait_for(predicate: Any, timeout: float = 15.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


# --- SMTP ------------------------------------------------------------------------------------------


class _SmtpHandler:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        sink = self.sink
        with sink.lock:
            if sink.failures:
                sink.failures -= 1
                sink.refused += 1
                return "451 4.3.0 try again later"
            sink.raw.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        while sink.hold.is_set():
            await asyncio.sleep(0.05)
        return "250 OK"


@dataclass
class SmtpSink:
    port: int
    raw: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    failures: int = 0
    refused: int = 0
    hold: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None
    tls_context: Any = None
    authenticator: Any = None

    def start(self) -> SmtpSink:
        kwargs: dict[str, Any] = {}
        if self.tls_context is not None:
            kwargs.update(tls_context=self.tls_context, require_starttls=True)
        if self.authenticator is not None:
            kwargs.update(authenticator=self.authenticator, auth_require_tls=True)
        self.controller = Controller(_SmtpHandler(self), hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.hold.clear()
            self.controller.stop()
            self.controller = None

    def fail_next(self, n: int) -> None:
        with self.lock:
            self.failures = n

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [message_from_bytes(content, policy=default_policy) for _, _, content in self.raw]  # type: ignore[misc]

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            raw = [content for _, rcpts, content in self.raw if address in rcpts]
        return [message_from_bytes(content, policy=default_policy) for content in raw]  # type: ignore[misc]


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink(free_port()).start()
    yield sink
    sink.stop()


# --- HTTP ------------------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class HookReceiver:
    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.failures = 0
        self.fail_status = 500
        self.always_fail: set[str] = set()  # paths that always answer 500
        self.redirects: dict[str, str] = {}  # path -> Location answered with a 307
        self.hold = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    if receiver.failures:
                        receiver.failures -= 1
                        status = receiver.fail_status
                    elif self.path in receiver.always_fail:
                        status = 500
                    elif self.path in receiver.redirects:
                        status = 307
                    else:
                        status = 204
                    receiver.requests.append(Received(self.path, status, dict(self.headers.items()), body))
                while receiver.hold.is_set():
                    time.sleep(0.05)
                self.send_response(status)
                if status == 307:
                    self.send_header("Location", receiver.redirects[self.path])
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail_next(self, n: int, status: int = 500) -> None:
        with self.lock:
            self.failures, self.fail_status = n, status

    def delivered(self, path: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if 200 <= r.status < 300 and (path is None or r.path == path)]

    def close(self) -> None:
        self.hold.clear()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[HookReceiver]:
    hook = HookReceiver()
    yield hook
    hook.close()


# --- configs ---------------------------------------------------------------------------------------


FAST_ALERTS = """
[alerts]
max_attempts = {max_attempts}
backoff_base = 1
backoff_max = 4
backoff_jitter = 0
lease_seconds = {lease}
timeout = 5
allow_loopback = true
archive_url = "https://archive.example.org/documents/{{document_id}}?version={{version_id}}"
"""


def alerts_toml(smtp_port: int, *, max_attempts: int = 5, lease: float = 60) -> str:
    return (
        f'[smtp]\nhost = "127.0.0.1"\nport = {smtp_port}\nsecurity = "none"\n'
        f'sender = "医保观察 Yibao Watch <watch@example.org>"\ntimeout = 10\n'
        + FAST_ALERTS.format(max_attempts=max_attempts, lease=lease)
    )


@pytest.fixture
def hook_secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("YIBAO_HOOK_SECRET", HOOK_SECRET)
    return HOOK_SECRET


def write_toml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
