"""What a failed attempt means for its item and for the process, the same for both queues."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from api.problems import problem_for
from factline.archives import ArchiveEntry
from factline.batch_store import BatchStore, ClaimedItem
from factline.database import create_engine, sessions, upgrade_to_head
from factline.errors import LLMCircuitOpen, LLMRateLimited, LLMUnavailable
from factline.item_attempts import DEFAULT_RATE_LIMIT_PAUSE, ItemAttempts
from schemas import ArchiveKind, ExtractionRequest


async def _one_chunk(entries: list[ArchiveEntry]) -> AsyncIterator[Sequence[ArchiveEntry]]:
    yield entries


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[BatchStore]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    await upgrade_to_head(engine)
    yield BatchStore(sessions(engine), lease_seconds=60)
    await engine.dispose()


async def claimed(store: BatchStore) -> tuple[str, ClaimedItem]:
    entries = [ArchiveEntry(0, "a", request=ExtractionRequest(text="Some article."))]
    batch_id = await store.create(ArchiveKind.NDJSON, None, None, _one_chunk(entries), problem_for)
    item = await store.claim("w")
    assert item is not None
    return batch_id, item


@pytest.mark.parametrize(
    ("error", "pause"),
    [
        (LLMUnavailable("down"), 0.0),
        (LLMRateLimited("slow down", retry_after=7), 7.0),
        (LLMRateLimited("slow down", retry_after=None), DEFAULT_RATE_LIMIT_PAUSE),
    ],
)
async def test_a_failure_is_the_items_problem_and_a_rate_limit_rests_the_process(
    store: BatchStore, error: Exception, pause: float
) -> None:
    batch_id, item = await claimed(store)
    assert await ItemAttempts(store, problem_for, 60).fail(item, "w", error) == pause
    [(_, line)] = await store.results(batch_id, 0)
    assert '"status":"failed"' in line
    assert (await store.get(batch_id)).counts.failed == 1


async def test_an_open_circuit_sends_the_item_back_unharmed(store: BatchStore) -> None:
    batch_id, item = await claimed(store)
    assert await ItemAttempts(store, problem_for, 60).fail(item, "w", LLMCircuitOpen(30)) == 30.0
    assert await store.results(batch_id, 0) == []
    counts = (await store.get(batch_id)).counts
    assert (counts.failed, counts.pending, counts.running) == (0, 1, 0)
    assert await store.claim("w") is None  # not before the probe may run
