"""``crawler.gc_tuning.GcTuning``: at the engine's start the objects then alive are frozen out of the
collector's sight and its thresholds raised, once per process; ``[]`` leaves the collector alone."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from crawler import gc_tuning
from crawler import settings as project_settings


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector as this test found it, afterwards."""
    thresholds = gc.get_threshold()
    gc_tuning._tuned = False
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    gc_tuning._tuned = False


class Node:
    other: object = None


def extension(thresholds: object) -> gc_tuning.GcTuning:
    return gc_tuning.GcTuning.from_crawler(get_crawler(settings_dict={"YIBAO_GC_THRESHOLDS": thresholds}))


def test_the_engine_start_freezes_what_is_alive_and_raises_the_thresholds(collector: None) -> None:
    tuning = extension(project_settings.YIBAO_GC_THRESHOLDS)
    assert gc.get_freeze_count() == 0
    cycle = Node()
    cycle.other = cycle  # garbage only the collector can free
    ref = weakref.ref(cycle)
    del cycle
    tuning.engine_started()
    assert gc.get_threshold() == (10_000, 20, 20)
    frozen = gc.get_freeze_count()
    assert frozen > 1000  # the imports of this process, and the cycle: out of the collector's sight
    gc.collect()
    assert ref() is not None
    extension([5000, 10, 10]).engine_started()  # a second crawler in the same process changes nothing
    assert gc.get_threshold() == (10_000, 20, 20)
    assert gc.get_freeze_count() == frozen


def test_an_empty_setting_leaves_the_collector_alone_and_a_bad_one_is_refused(collector: None) -> None:
    before = gc.get_threshold()
    with pytest.raises(NotConfigured):
        extension([])
    assert gc.get_threshold() == before
    for bad in ([700, 10], [0, 10, 10], [700, -1, 10]):
        with pytest.raises(ValueError, match="YIBAO_GC_THRESHOLDS"):
            extension(bad)
