"""Shared fixtures: running replica portals (see ``replicas/``) for any test package.

``replicas``       a started ``ReplicaServer`` over ``ReplicaWorld(docs=60, seed=7)``; one per test.
``make_replicas``  a factory, ``make_replicas(docs=..., seed=...) -> ReplicaServer``, for tests that
                   need another corpus size or seed (or several worlds at once).

Every server listens on ephemeral 127.0.0.1 ports (``server.urls[portal_id]``, ``server.admin_url``);
``server.world`` is the ``ReplicaWorld`` to mutate and inspect. All servers are stopped at teardown.

A config for them: ``server.registry_toml(*portal_ids, **fields)`` is ``use_shipped = false`` and the complete
entries of the replica registry (``replicas/portals.toml``) at the server's ports; it goes first in the file.
Never point a shipped portal at a replica by ``base_url`` alone: the shipped registry describes the real bureaus
(their column paths are not the replicas'), and without ``use_shipped = false`` a crawl of every enabled portal
would reach for the real hosts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from replicas.server import ReplicaServer
from replicas.world import ReplicaWorld
from tests.lanes import guarded

MakeReplicas = Callable[..., ReplicaServer]


@pytest.fixture
def make_replicas() -> Iterator[MakeReplicas]:
    """Factory of started replica servers; stops every server it started at teardown."""
    started: list[ReplicaServer] = []

    def make(docs: int = 60, seed: int = 7, *, with_seeds: bool = True) -> ReplicaServer:
        server = ReplicaServer(ReplicaWorld(docs=docs, seed=seed, with_seeds=with_seeds)).start()
        started.append(server)
        return server

    yield make
    for server in reversed(started):
        server.stop()


@pytest.fixture
def replicas(make_replicas: MakeReplicas) -> ReplicaServer:
    """A started replica server over ``ReplicaWorld(docs=60, seed=7)``, stopped at teardown."""
    return make_replicas(docs=60, seed=7)


# the lanes (tests/lanes.py): unit-lane tests and their fixtures may start no process and bind no socket
pytest_runtest_setup = guarded
pytest_runtest_call = guarded
