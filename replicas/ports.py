"""A free TCP port of 127.0.0.1, for the local servers the tests, the benchmarks and the demo start (replica
portals, Redis, ``yibao serve``, mail and webhook sinks) when the server cannot bind port 0 itself and report it.

The port is free when asked: the probe's socket is closed before the caller's server binds it, so another process
could take it in between (unlikely on a test machine; a server that fails to bind says so)."""

from __future__ import annotations

import socket

__all__ = ["free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on at ``host`` now (the kernel's choice for a bind to port 0)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
