"""The batch workers on a real SQLite file: stopping them (SIGTERM, shutdown) never cuts a database step
short and hands items back; writing an outcome holds no LLM slot; idle, they look by reads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from factline.archives import ArchiveEntry
from factline.batch_store import BatchStore, ClaimedItem
from factline.batch_workers import BatchWorkers
from factline.database import create_engine, sessions, upgrade_to_head
from factline.llm import LLMClient
from schemas import ArchiveKind, ExtractionRequest, Problem
from tests.conftest import make_settings

StoreT = TypeVar("StoreT", bound=BatchStore)


async def _chunk(count: int) -> AsyncIterator[Sequence[ArchiveEntry]]:
    yield [ArchiveEntry(n, f"a{n}", request=ExtractionRequest(text=f"Article {n}.")) for n in range(count)]


class SlowFinishStore(BatchStore):
    """Finishing takes a while inside its transaction, as a busy database would."""

    finished: int = 0

    async def finish(self, item: ClaimedItem, owner: str, **outcome: Any) -> bool:
        async with self.sessions.begin():
            await asyncio.sleep(0.3)
        self.finished += 1
        return await super().finish(item, owner, **outcome)


class Extractor:
    """The first article fails at once (its outcome is being written when the workers stop); the
    others wait for an LLM that never answers."""

    async def extract(self, request: ExtractionRequest) -> Any:
        if request.text == "Article 0.":
            raise RuntimeError("no")
        await asyncio.Event().wait()


def _problem(error: Exception) -> Problem:
    return Problem(type="urn:x", title="t", status=502, detail=str(error))


async def _store(tmp_path: Path, kind: type[StoreT]) -> tuple[AsyncEngine, StoreT]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    await upgrade_to_head(engine)
    return engine, kind(sessions(engine), lease_seconds=60)


def _workers(store: BatchStore, extractor: Any, concurrency: int, poll_seconds: float = 0.05) -> BatchWorkers:
    return BatchWorkers(
        store, extractor, _problem, concurrency=concurrency, lease_seconds=60, poll_seconds=poll_seconds
    )


async def test_stop_lets_a_database_step_finish_and_hands_the_rest_back(tmp_path: Path) -> None:
    engine, store = await _store(tmp_path, SlowFinishStore)
    batch_id = await store.create(ArchiveKind.NDJSON, None, None, _chunk(3), _problem)
    workers = _workers(store, Extractor(), concurrency=3)
    await workers.start()
    await asyncio.sleep(0.15)  # all three claimed; the first is writing its outcome
    await asyncio.wait_for(workers.stop(), timeout=5)

    assert store.finished == 1  # the step under way was completed, not cancelled
    batch = await store.get(batch_id)
    assert (batch.counts.failed, batch.counts.running, batch.counts.pending) == (1, 0, 2)
    assert len(await store.results(batch_id, 0)) == 1
    await engine.dispose()


class SlotCountingExtractor:
    """An LLM that answers after 50 ms, counting the calls made at once; the turns are the real LLM
    client's, which take the batch worker's slots."""

    def __init__(self) -> None:
        self.llm = LLMClient(make_settings(llm_max_concurrency=64))
        self.inside = self.most_inside = self.done = 0

    async def extract(self, request: ExtractionRequest) -> Any:
        async with self.llm.turn():
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
            await asyncio.sleep(0.05)
            self.inside -= 1
            self.done += 1
        raise RuntimeError("no")  # an outcome to write, through the slow store


async def test_writing_an_outcome_does_not_hold_an_llm_slot(tmp_path: Path) -> None:
    """Two items at a time in the LLM's hands, never more, and the next two extract while the last
    two's outcomes are written (300 ms each, one writer at a time on SQLite)."""
    engine, store = await _store(tmp_path, SlowFinishStore)
    await store.create(ArchiveKind.NDJSON, None, None, _chunk(8), _problem)
    extractor = SlotCountingExtractor()
    workers = _workers(store, extractor, concurrency=2)
    await workers.start()
    await asyncio.sleep(0.25)  # the first two are being written (0.05 s in the LLM, then 0.3 s)
    assert store.finished == 0
    assert extractor.done == 4  # slots held through the writes would have let only two through
    await asyncio.wait_for(workers.stop(), timeout=5)
    assert extractor.most_inside == 2
    await engine.dispose()


class CountingStore(BatchStore):
    """Counts claims (write transactions) and looks (reads)."""

    claims: int = 0
    looks: int = 0

    async def claim(self, owner: str) -> ClaimedItem | None:
        self.claims += 1
        return await super().claim(owner)

    async def has_claimable(self) -> bool:
        self.looks += 1
        return await super().has_claimable()


async def test_idle_workers_look_by_reads_and_claim_what_arrives(tmp_path: Path) -> None:
    """With the queue empty, each poll is one read: a claim is a write transaction, on SQLite taken
    under the one writer lock. Work queued meanwhile is claimed at the next look."""
    engine, store = await _store(tmp_path, CountingStore)
    extractor = SlotCountingExtractor()
    workers = _workers(store, extractor, concurrency=4, poll_seconds=0.02)
    await workers.start()
    await asyncio.sleep(0.4)  # ~20 polls
    assert store.looks >= 10
    assert store.claims == len(workers.owners)  # each worker's first claim, none per poll
    await store.create(ArchiveKind.NDJSON, None, None, _chunk(3), _problem)  # no wake: found by a look
    for _ in range(100):
        if extractor.done == 3:
            break
        await asyncio.sleep(0.02)
    assert extractor.done == 3
    await asyncio.wait_for(workers.stop(), timeout=5)
    await engine.dispose()
