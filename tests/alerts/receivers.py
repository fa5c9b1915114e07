"""Misbehaving receivers for the dispatcher's reliability tests, all real sockets on 127.0.0.1:

``SlowReceiver``  an HTTP webhook receiver that records every POST when it arrives (delivery id, event id,
                  headers, body) and answers 204 only after ``delay`` seconds: a slow receiver.
``HungServer``    a TCP server that accepts connections and never says a word (a hung SMTP relay or web
                  server): the client waits until its own timeout.
``DripServer``    an HTTP server that answers one byte at a time, a byte every ``interval`` seconds, never
                  finishing: each read arrives within any read timeout, so the client's timeouts never fire.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Post:
    at: float  # time.monotonic() when the request arrived
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def delivery_id(self) -> str:
        return self.headers["X-Yibao-Delivery"]

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class SlowReceiver:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.posts: list[Post] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.posts.append(Post(time.monotonic(), self.path, dict(self.headers.items()), body))
                time.sleep(receiver.delay)
                try:
                    self.send_response(204)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:  # the sender is gone (killed, or gave up): the request still arrived
                    pass

            def log_message(self, *args: Any) -> None:
                pass

            def log_error(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def count(self) -> int:
        with self.lock:
            return len(self.posts)

    def copies(self) -> Counter[str]:
        """How many POSTs each delivery id got."""
        with self.lock:
            return Counter(p.delivery_id for p in self.posts)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class HungServer:
    """Accepts every connection and holds it open without sending or reading anything."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self.closed = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)

    @property
    def accepted(self) -> int:
        return len(self.connections)

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for conn in self.connections:
            conn.close()


class DripServer(HungServer):
    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        super().__init__()

    def _accept(self) -> None:
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        answer = b"HTTP/1.1 200 OK\r\nX-Drip: " + b"a" * 100_000
        with contextlib.suppress(OSError):
            conn.recv(65536)
            for i in range(len(answer)):
                if self.closed:
                    return
                conn.sendall(answer[i : i + 1])
                time.sleep(self.interval)
