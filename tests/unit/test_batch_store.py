"""The batch store's guarantees, step by step, on SQLite and PostgreSQL: leases, lost leases, and one
result line per item."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from factline.archives import ArchiveEntry
from factline.batch_store import BatchStore
from factline.database import create_engine, sessions, upgrade_to_head
from schemas import ArchiveKind, ExtractionRequest, Problem


async def _one_chunk(entries: list[ArchiveEntry]) -> AsyncIterator[Sequence[ArchiveEntry]]:
    yield entries


def _never_called(error: Exception) -> Problem:
    raise AssertionError(error)


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[BatchStore]:
    """The same guarantees on both databases (PostgreSQL: a real server, see tests/postgres.py)."""
    if request.param == "postgresql":
        url = str(request.getfixturevalue("postgres_url"))
    else:
        url = f"sqlite+aiosqlite:///{tmp_path / 'store.db'}"
    engine = create_engine(url)
    await upgrade_to_head(engine)
    await upgrade_to_head(engine)  # running the migrations again at the next start-up is a no-op
    yield BatchStore(sessions(engine), lease_seconds=0.2)
    await engine.dispose()


async def test_a_lost_lease_discards_the_late_result(store: BatchStore) -> None:
    entries = [ArchiveEntry(0, "a", request=ExtractionRequest(text="Some article."))]
    batch_id = await store.create(ArchiveKind.NDJSON, None, None, _one_chunk(entries), _never_called)

    first = await store.claim("worker-a")
    assert first is not None
    assert await store.claim("worker-b") is None  # claimed items are not handed out twice
    await asyncio.sleep(0.3)
    assert await store.renew(first.id, "worker-a")  # renewing keeps a late lease alive...
    await asyncio.sleep(0.3)
    assert await store.requeue_expired() == 1  # ...but a worker that stops renewing loses the item

    second = await store.claim("worker-b")
    assert second is not None
    assert second.id == first.id
    problem = Problem(type="urn:x", title="t", status=502, detail="d")
    assert not await store.finish(first, "worker-a", problem=problem)  # the dead worker's late answer
    assert await store.finish(second, "worker-b", problem=problem)
    assert not await store.finish(second, "worker-b", problem=problem)  # and never twice

    lines = await store.results(batch_id, 0)
    assert len(lines) == 1
    batch = await store.get(batch_id)
    assert (batch.counts.failed, batch.counts.pending) == (1, 0)


async def test_release_delays_the_item(store: BatchStore) -> None:
    entries = [ArchiveEntry(0, "a", request=ExtractionRequest(text="Some article."))]
    await store.create(ArchiveKind.NDJSON, None, None, _one_chunk(entries), _never_called)
    item = await store.claim("w")
    assert item is not None
    await store.release(item.id, "w", delay_seconds=0.3)
    assert await store.claim("w") is None
    await asyncio.sleep(0.35)
    assert await store.claim("w") is not None
