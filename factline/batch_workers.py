"""The workers that extract batch items: asyncio tasks, bounded in number, in the service process or
in a `factline worker` process of their own (many of them share one PostgreSQL database).

This is factline's own queue (`FACTLINE_BATCH_QUEUE=database`): each worker claims the oldest queued
item under a lease it renews while the LLM works, extracts it in one of the LLM slots (`batch_jobs`)
and writes its result. What a failure means (`item_attempts`) can pause claiming: a rate limit, or
the circuit breaker holding calls. A reaper returns items whose lease ran out: their worker died.

Stopping never cancels a database transaction: a transaction cut off by cancellation can stay open
(on SQLite holding the write lock, on PostgreSQL the rows), and the hand-back that follows would
wait for it. Workers finish their current database step and leave; only LLM calls are cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from factline.batch_store import BatchStore, ClaimedItem, Describe
from factline.cache import CachingExtractor
from factline.errors import LLMCallWithdrawn
from factline.worker_lifecycle import Workers
from schemas import Extraction

logger = logging.getLogger("factline.batches")


class BatchWorkers(Workers):
    def __init__(
        self,
        store: BatchStore,
        extractor: CachingExtractor,
        describe: Describe,
        *,
        concurrency: int,
        lease_seconds: float,
        poll_seconds: float,
    ) -> None:
        super().__init__(store, extractor, describe, concurrency=concurrency, lease_seconds=lease_seconds)
        self.poll_seconds = poll_seconds
        self.owners = [f"{self.process}/{n}" for n in range(self.jobs)]
        self._wake = asyncio.Event()
        self._scouting = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopped: asyncio.Future[None] | None = None

    async def start(self) -> None:
        if requeued := await self.store.requeue_expired():
            logger.warning("returned %d items with expired leases to the queue", requeued)
        self._tasks = [
            asyncio.create_task(self._work(owner), name=f"batch-worker-{owner}") for owner in self.owners
        ]
        self._tasks.append(asyncio.create_task(self._reap(), name="batch-reaper"))
        self.hear_cancellations()

    async def stop(self) -> None:
        if self._stopped is None:
            self._stopped = asyncio.ensure_future(self._stop())
        await self._stopped

    async def _stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        self.abandon_extractions()
        await asyncio.gather(*self._tasks, return_exceptions=True)  # results already paid for are written
        self._tasks = []
        await self.stop_hearing()
        if released := await self.store.release_all(self.owners):
            logger.info("returned %d unfinished items to the queue", released)

    def wake(self) -> None:
        self._wake.set()

    async def _idle(self, seconds: float) -> None:
        """Wait `seconds`, or less when new work is queued or the workers stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        if not self._stopping.is_set():
            self._wake.clear()

    async def _work(self, owner: str) -> None:
        while not self._stopping.is_set():
            try:
                pause = self._paused_until - time.monotonic()
                if pause > 0:
                    await self._idle(pause)
                    continue
                await self._take_one(owner)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end the worker
                logger.exception("batch worker %s failed; continuing", owner)
                await asyncio.sleep(self.poll_seconds)

    async def _scout(self, owner: str) -> ClaimedItem | None:
        """With the queue empty, one idle worker at a time looks each poll, by a read, the others queue
        behind it; each looks once more when its turn comes, so new work reaches all of them. Sixteen
        workers each polling took 15 ms of CPU per idle second (a write transaction per look); one
        scout that claimed before each look still wrote once per poll. None when stopping or paused."""
        async with self._scouting:
            while not self._stopping.is_set() and self._paused_until <= time.monotonic():
                if await self.store.has_claimable():
                    return await self.store.claim(owner)
                await self._idle(self.poll_seconds)
            return None

    async def _take_one(self, owner: str) -> None:
        item = await self.store.claim(owner) or await self._scout(owner)
        if item is None:
            return
        async with self.attempts.renewing(item, owner):
            outcome = await self._extract(item)
        if outcome is None:
            return  # stopping (`stop()` hands the item back), or its batch was cancelled
        if isinstance(outcome, Exception):
            self._pause(await self.attempts.fail(item, owner, outcome))
            return
        try:
            await self.attempts.succeed(item, owner, outcome)
        except Exception:  # the lease runs out and the item is extracted again
            logger.exception("writing the result of item %s failed", item.id)

    async def _extract(self, item: ClaimedItem) -> Extraction | Exception | None:
        """The item's extraction, or why it failed; None when the workers stop meanwhile, or when its
        batch is cancelled."""
        if self._stopping.is_set():
            return None  # claimed as the workers stopped
        try:
            return await self.extract(item)
        except LLMCallWithdrawn:
            return None  # its batch was cancelled, or `stop()` abandoned it and hands the item back
        except Exception as error:
            return error

    async def _reap(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.lease_seconds / 2)
            if self._stopping.is_set():
                return
            try:
                if requeued := await self.store.requeue_expired():
                    logger.warning("returned %d items with expired leases to the queue", requeued)
                    self.wake()
            except Exception:
                logger.exception("lease reaper failed; continuing")
