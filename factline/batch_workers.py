"""The workers that extract batch items: asyncio tasks, bounded in number, in the service process or
in a `factline worker` process of their own (many of them share one PostgreSQL database).

Each worker claims one item at a time under a lease it renews while the LLM works; a rate limit
puts the item back with the provider's Retry-After (and pauses this process's claiming), any other
failure becomes the item's problem. A reaper returns items whose lease ran out: their worker died.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid

from factline.batch_store import BatchStore, ClaimedItem, Describe
from factline.cache import CachingExtractor
from factline.errors import LLMRateLimited
from schemas import ExtractionRequest

logger = logging.getLogger("factline.batches")

DEFAULT_RATE_LIMIT_PAUSE = 5.0


class BatchWorkers:
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
        self.store = store
        self.extractor = extractor
        self.describe = describe
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        # `lease_owner` is 64 characters wide (PostgreSQL enforces it): a long host name is cut.
        process = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.owners = [f"{process}/{n}" for n in range(concurrency)]
        self._wake = asyncio.Event()
        self._paused_until = 0.0
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        if requeued := await self.store.requeue_expired():
            logger.warning("returned %d items with expired leases to the queue", requeued)
        self._tasks = [
            asyncio.create_task(self._work(owner), name=f"batch-worker-{owner}") for owner in self.owners
        ]
        self._tasks.append(asyncio.create_task(self._reap(), name="batch-reaper"))

    async def stop(self) -> None:
        """Stop working and give back what this process holds, so nothing waits for a lease to expire."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if released := await self.store.release_all(self.owners):
            logger.info("returned %d unfinished items to the queue", released)

    def wake(self) -> None:
        """New work was queued: idle workers look now rather than at their next poll."""
        self._wake.set()

    async def _idle(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=seconds)
        self._wake.clear()

    async def _work(self, owner: str) -> None:
        while True:
            try:
                pause = self._paused_until - time.monotonic()
                if pause > 0:
                    await asyncio.sleep(pause)
                    continue
                item = await self.store.claim(owner)
                if item is None:
                    await self._idle(self.poll_seconds)
                    continue
                await self._process(item, owner)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end the worker
                logger.exception("batch worker %s failed; continuing", owner)
                await asyncio.sleep(self.poll_seconds)

    async def _process(self, item: ClaimedItem, owner: str) -> None:
        heartbeat = asyncio.create_task(self._renew(item, owner))
        try:
            request = ExtractionRequest.model_validate_json(item.request_json)
            extraction = await self.extractor.extract(request)
        except LLMRateLimited as error:
            delay = float(error.retry_after) if error.retry_after is not None else DEFAULT_RATE_LIMIT_PAUSE
            self._paused_until = max(self._paused_until, time.monotonic() + delay)
            logger.info("LLM rate limit: item %s back in the queue for %.0f s", item.id, delay)
            await self.store.release(item.id, owner, delay)
            return
        except Exception as error:
            await self.store.finish(item, owner, problem=self.describe(error))
            return
        finally:
            heartbeat.cancel()
            await asyncio.wait({heartbeat})  # no renewal may run after the outcome is written
        if not await self.store.finish(item, owner, extraction=extraction):
            logger.warning(
                "item %s was taken back (lease lost or batch cancelled); result discarded", item.id
            )

    async def _renew(self, item: ClaimedItem, owner: str) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            if not await self.store.renew(item.id, owner):
                return

    async def _reap(self) -> None:
        while True:
            await asyncio.sleep(self.lease_seconds / 2)
            try:
                if requeued := await self.store.requeue_expired():
                    logger.warning("returned %d items with expired leases to the queue", requeued)
                    self.wake()
            except Exception:
                logger.exception("lease reaper failed; continuing")
