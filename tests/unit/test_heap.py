"""Settling the heap after start-up: what start-up made is frozen, young collections are rarer."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from factline import heap


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_settling_freezes_what_lives_now_and_collects_young_objects_less_often() -> None:
    gc.unfreeze()
    _, middle, old = gc.get_threshold()
    long_lived = [{"made": "at start-up"} for _ in range(1000)]
    heap.settle()
    assert gc.get_freeze_count() >= len(long_lived)
    assert gc.get_threshold() == (heap.YOUNG_ALLOCATIONS, middle, old)
