"""The batch store's guarantees, step by step, on SQLite and PostgreSQL: leases, lost leases, and one
result line per item."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from factline import batch_store, upsert
from factline.archives import ArchiveEntry
from factline.batch_store import BatchStore
from factline.database import create_engine, sessions, upgrade_to_head
from factline.errors import InvalidArchiveEntry
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


async def test_a_job_claims_its_item_again_and_no_other_job_while_the_lease_lives(store: BatchStore) -> None:
    """A procrastinate job names its item; a retried job (same key, any process) takes it back."""
    entries = [ArchiveEntry(0, "a", request=ExtractionRequest(text="Some article."))]
    await store.create(ArchiveKind.NDJSON, None, None, _one_chunk(entries), _never_called)
    peeked = await store.claim("peek")  # the item's id, as its job would name it
    assert peeked is not None
    item_id = peeked.id
    await store.release(item_id, "peek", delay_seconds=0)

    first = await store.claim_item(item_id, "host:1:a/job:7", "/job:7")
    assert first is not None
    assert await store.claim_item(item_id, "host:2:b/job:8", "/job:8") is None  # another job: held
    again = await store.claim_item(item_id, "host:2:b/job:7", "/job:7")  # job 7 retried elsewhere
    assert again is not None
    assert not await store.renew(item_id, "host:1:a/job:7")  # the first run lost the item

    await asyncio.sleep(0.3)  # the lease ran out: any job may take the item
    taken = await store.claim_item(item_id, "host:3:c/job:9", "/job:9")
    assert taken is not None
    problem = Problem(type="urn:x", title="t", status=502, detail="d")
    assert not await store.finish(again, "host:2:b/job:7", problem=problem)
    assert await store.finish(taken, "host:3:c/job:9", problem=problem)
    assert await store.claim_item(item_id, "host:3:c/job:9", "/job:9") is None  # done: nothing to do


async def test_on_queued_is_told_of_queued_items_in_their_transaction(tmp_path: Path) -> None:
    told: list[list[str]] = []

    async def on_queued(session: Any, item_ids: Sequence[str]) -> None:
        assert session.in_transaction()
        told.append(list(item_ids))

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    await upgrade_to_head(engine)
    store = BatchStore(sessions(engine), lease_seconds=60, on_queued=on_queued)
    entries = [
        ArchiveEntry(0, "a", request=ExtractionRequest(text="Some article.")),
        ArchiveEntry(1, "b", error=InvalidArchiveEntry("not an article")),
    ]

    def describe(error: Exception) -> Problem:
        return Problem(type="urn:x", title="t", status=422, detail=str(error))

    batch_id = await store.create(ArchiveKind.NDJSON, None, None, _one_chunk(entries), describe)
    [[queued]] = told  # the bad line is failed at once: no job for it
    item = await store.claim("w")
    assert item is not None
    assert item.id == queued
    await store.finish(item, "w", problem=describe(RuntimeError("LLM down")))
    assert await store.retry(batch_id) == 1
    assert told[1] == [queued]  # queued again: a new job
    await engine.dispose()


async def test_release_delays_the_item(store: BatchStore) -> None:
    entries = [ArchiveEntry(0, "a", request=ExtractionRequest(text="Some article."))]
    await store.create(ArchiveKind.NDJSON, None, None, _one_chunk(entries), _never_called)
    item = await store.claim("w")
    assert item is not None
    await store.release(item.id, "w", delay_seconds=0.3)
    assert await store.claim("w") is None
    await asyncio.sleep(0.35)
    assert await store.claim("w") is not None


async def test_on_postgres_a_resuming_reader_misses_no_line_when_writers_finish_at_once(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many workers finish at once on PostgreSQL, each pausing between drawing its line's cursor and
    committing; a client tailing the results with `after` must still read every line."""
    engine = create_engine(postgres_url)
    await upgrade_to_head(engine)
    store = BatchStore(sessions(engine), lease_seconds=60)
    count = 40
    request = ExtractionRequest(text="Some article.")
    entries = [ArchiveEntry(n, f"a{n}", request=request) for n in range(count)]
    batch_id = await store.create(ArchiveKind.NDJSON, None, None, _one_chunk(entries), _never_called)
    claimed = [await store.claim(f"w{n}") for n in range(count)]
    real_insert = upsert.insert_ignoring_duplicates  # what batch_store imported

    async def slow_insert(*args: Any, **kwargs: Any) -> None:
        await real_insert(*args, **kwargs)
        await asyncio.sleep(random.uniform(0, 0.05))  # the seq is drawn; the commit comes later

    monkeypatch.setattr(batch_store, "insert_ignoring_duplicates", slow_insert)
    problem = Problem(type="urn:x", title="t", status=502, detail="d")
    all_finished = asyncio.Event()

    async def finish_all() -> None:
        await asyncio.gather(
            *(store.finish(item, f"w{n}", problem=problem) for n, item in enumerate(claimed) if item)
        )
        all_finished.set()

    read: list[int] = []

    async def tail() -> None:
        after = 0
        while True:
            last_round = all_finished.is_set()
            for seq, _ in await store.results(batch_id, after):
                read.append(seq)
                after = seq
            if last_round:
                return
            await asyncio.sleep(0.001)

    await asyncio.gather(tail(), finish_all())
    await engine.dispose()
    assert len(read) == count, f"the reader missed {count - len(read)} lines"


async def test_a_look_for_work_sees_what_a_claim_would_take(store: BatchStore) -> None:
    """Idle workers look with a read before they claim (a write): both must agree on what is available."""
    assert not await store.has_claimable()
    entries = [ArchiveEntry(0, "a", request=ExtractionRequest(text="Some article."))]
    await store.create(ArchiveKind.NDJSON, None, None, _one_chunk(entries), _never_called)
    assert await store.has_claimable()
    claimed = await store.claim("worker-a")
    assert claimed is not None
    assert not await store.has_claimable()
    await store.release(claimed.id, "worker-a", delay_seconds=60)  # back in the queue, but not yet
    assert not await store.has_claimable()
    assert await store.claim("worker-b") is None
