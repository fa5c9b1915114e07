"""The two lanes of the suite, by folder: ``tests/e2e/`` (replica portals, crawls in subprocesses, servers)
and every other test folder (the unit lane: in process only).

The unit lane's promise is enforced, not hoped for: while a unit test or any of its fixtures runs, starting a
subprocess or binding a network socket raises ``LaneViolation`` naming the rule, so a test that needs a process
or a server fails until it moves under ``tests/e2e/``. ``make test`` runs the unit lane first.
"""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

E2E = Path(__file__).resolve().parent / "e2e"


class LaneViolation(RuntimeError):
    """A unit-lane test started a subprocess or a server."""


_popen_init = subprocess.Popen.__init__
_bind = socket.socket.bind


def _no_popen(self: Any, *args: Any, **kwargs: Any) -> None:
    raise LaneViolation("a unit-lane test may not start a subprocess: move it under tests/e2e/")


def _no_server(self: socket.socket, address: Any) -> None:
    if self.family == getattr(socket, "AF_UNIX", None):  # socketpair-style local plumbing is fine
        _bind(self, address)
        return
    raise LaneViolation("a unit-lane test may not bind a network socket: move it under tests/e2e/")


def is_e2e(item: pytest.Item) -> bool:
    return E2E in Path(str(item.path)).resolve().parents


@pytest.hookimpl(hookwrapper=True)
def guarded(item: pytest.Item) -> Iterator[None]:
    """Wrap a test phase: unit-lane tests (fixtures included) run with processes and servers forbidden."""
    if is_e2e(item):
        yield
        return
    subprocess.Popen.__init__ = _no_popen  # type: ignore[method-assign]
    socket.socket.bind = _no_server  # type: ignore[method-assign]
    try:
        yield
    finally:
        subprocess.Popen.__init__ = _popen_init  # type: ignore[method-assign]
        socket.socket.bind = _bind  # type: ignore[method-assign]
