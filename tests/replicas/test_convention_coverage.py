"""The replica world generates every real-world convention often enough to be measured.

The extraction-accuracy crawl (tests/e2e/crawl/test_extraction_accuracy.py) scores a 1,000-document world;
this checks, without serving or crawling anything, that a 2,100-document world gives every convention (the
text conventions of ``replicas.corpus`` and the page conventions of the site templates) at least five
documents among the pages its lists link, so a convention that the generator stops producing fails here.
"""

from __future__ import annotations

from collections import Counter

import pytest

from replicas.corpus import CONVENTIONS
from replicas.sites.base import PAGE_CONVENTIONS
from replicas.world import ReplicaWorld

MIN_DOCUMENTS = 5


@pytest.fixture(scope="module")
def world() -> ReplicaWorld:
    return ReplicaWorld(docs=2100, seed=31)


def documents_per_convention(world: ReplicaWorld) -> Counter[str]:
    """For each convention, the documents (not pages: a repost or mobile copy counts once) that show it."""
    seen: dict[str, set[str]] = {}
    for portal in world.portals:
        for doc_id, variant in world.site(portal).paths.values():
            for convention in world.truth(doc_id, variant)["conventions"]:
                seen.setdefault(convention, set()).add(doc_id)
    return Counter({name: len(ids) for name, ids in seen.items()})


def test_every_convention_has_enough_documents(world: ReplicaWorld) -> None:
    used = documents_per_convention(world)
    rare = {name: used[name] for name in (*CONVENTIONS, *PAGE_CONVENTIONS) if used[name] < MIN_DOCUMENTS}
    assert not rare, rare


def test_the_world_is_as_large_as_asked(world: ReplicaWorld) -> None:
    documents = {doc_id for portal in world.portals for doc_id, _ in world.site(portal).paths.values()}
    assert len(documents) >= 2100
