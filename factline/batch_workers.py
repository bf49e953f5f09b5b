"""The workers that extract batch items: asyncio tasks, bounded in number, in the service process or
in a `factline worker` process of their own (many of them share one PostgreSQL database).

Each worker claims one item at a time under a lease it renews while the LLM works, and claims the
next while the last one's result is written (at most one such write per worker). A failure that
outlasted the LLM client's retries becomes the item's problem (its `retry` queues it again), and the
other items go on; after a rate limit this process also stops claiming until the provider's
Retry-After. While the circuit breaker holds LLM calls, no call was made: the item goes back to the
queue and claiming pauses until the probe may run. A reaper returns items whose lease ran out: their
worker died.

Stopping never cancels a database transaction: a transaction cut off by cancellation can stay open
(on SQLite holding the write lock, on PostgreSQL the rows), and the hand-back that follows would
wait for it. Workers finish their current database step and leave; only LLM calls are cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from types import FrameType

from factline.batch_store import BatchStore, ClaimedItem, Describe
from factline.cache import CachingExtractor
from factline.errors import LLMCircuitOpen, LLMRateLimited
from factline.metrics import BATCH_ITEMS
from schemas import Extraction, ExtractionRequest

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
        self._scouting = asyncio.Lock()
        self._stopping = asyncio.Event()
        self._paused_until = 0.0
        self._tasks: list[asyncio.Task[None]] = []
        self._extracting: set[asyncio.Task[Extraction]] = set()
        # Results being written: at most one per worker waits, so memory stays bounded.
        self._finishing: set[asyncio.Task[None]] = set()
        self._finish_slots = asyncio.Semaphore(concurrency)
        self._stopped: asyncio.Future[None] | None = None

    async def start(self) -> None:
        if requeued := await self.store.requeue_expired():
            logger.warning("returned %d items with expired leases to the queue", requeued)
        self._tasks = [
            asyncio.create_task(self._work(owner), name=f"batch-worker-{owner}") for owner in self.owners
        ]
        self._tasks.append(asyncio.create_task(self._reap(), name="batch-reaper"))

    async def stop(self) -> None:
        """Stop working and give back what this process holds, so nothing waits for a lease to expire."""
        if self._stopped is None:
            self._stopped = asyncio.ensure_future(self._stop())
        await self._stopped

    @contextlib.contextmanager
    def stopping_on_sigterm(self) -> Iterator[None]:
        """Stop at SIGTERM itself, chained before the server's own handler: uvicorn first waits for
        open requests (up to its grace period), and the items held here should not wait with them."""
        previous = signal.getsignal(signal.SIGTERM)
        if threading.current_thread() is not threading.main_thread() or not callable(previous):
            yield  # not the process's main loop, or nobody else would stop the process on SIGTERM
            return
        loop = asyncio.get_running_loop()

        def on_sigterm(signum: int, frame: FrameType | None) -> None:
            loop.call_soon_threadsafe(lambda: asyncio.ensure_future(self.stop()))
            previous(signum, frame)

        signal.signal(signal.SIGTERM, on_sigterm)
        try:
            yield
        finally:
            signal.signal(signal.SIGTERM, previous)

    async def _stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        for extraction in list(self._extracting):
            extraction.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*self._finishing, return_exceptions=True)  # results already paid for
        self._tasks = []
        if released := await self.store.release_all(self.owners):
            logger.info("returned %d unfinished items to the queue", released)

    def wake(self) -> None:
        """New work was queued: idle workers look now rather than at their next poll."""
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
                item = await self.store.claim(owner) or await self._scout(owner)
                if item is not None:
                    await self._process(item, owner)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not end the worker
                logger.exception("batch worker %s failed; continuing", owner)
                await asyncio.sleep(self.poll_seconds)

    async def _scout(self, owner: str) -> ClaimedItem | None:
        """With the queue empty, one idle worker at a time looks again each poll, the others queue
        behind it: sixteen workers each polling took 15 ms of CPU per idle second (a write transaction
        per look). Each worker looks once more when its turn comes, so new work reaches all of them."""
        async with self._scouting:
            item = await self.store.claim(owner) if await self.store.has_claimable() else None
            if item is None:
                await self._idle(self.poll_seconds)
            return item

    async def _process(self, item: ClaimedItem, owner: str) -> None:
        done = asyncio.Event()
        heartbeat = asyncio.create_task(self._renew(item, owner, done))
        extracting: asyncio.Task[Extraction] | None = None
        extraction: Extraction | None = None
        try:
            if self._stopping.is_set():
                return  # claimed as the workers stopped: `stop()` hands it back
            request = ExtractionRequest.model_validate_json(item.request_json)
            extracting = asyncio.create_task(self.extractor.extract(request))
            self._extracting.add(extracting)
            extraction = await extracting
        except asyncio.CancelledError:
            if extracting is not None and extracting.cancelled() and self._stopping.is_set():
                return  # stopping: `stop()` hands the item back
            raise
        except LLMCircuitOpen as error:
            self._pause(error.retry_after)
            logger.info("LLM calls paused: item %s back in the queue for %d s", item.id, error.retry_after)
            await self.store.release(item.id, owner, error.retry_after)
            return
        except LLMRateLimited as error:
            self._pause(
                float(error.retry_after) if error.retry_after is not None else DEFAULT_RATE_LIMIT_PAUSE
            )
            if await self.store.finish(item, owner, problem=self.describe(error)):
                BATCH_ITEMS.labels("failed").inc()
            return
        except Exception as error:
            if await self.store.finish(item, owner, problem=self.describe(error)):
                BATCH_ITEMS.labels("failed").inc()
            return
        finally:
            if extracting is not None:
                self._extracting.discard(extracting)
            done.set()
            if extraction is None:
                await asyncio.wait({heartbeat})  # no renewal may run after the outcome is written
        # Written while this worker claims its next item: the write (result line, views) waits for the
        # database's one writer, and an LLM slot held through that wait was a slot doing nothing. The
        # heartbeat's last turn is waited for there too: on a busy loop it cost the worker ~10 ms.
        await self._finish_slots.acquire()
        finishing = asyncio.create_task(self._finish(item, owner, extraction, heartbeat))
        self._finishing.add(finishing)
        finishing.add_done_callback(self._finishing.discard)

    async def _finish(
        self, item: ClaimedItem, owner: str, extraction: Extraction, heartbeat: asyncio.Task[None]
    ) -> None:
        try:
            await asyncio.wait({heartbeat})  # no renewal may run after the outcome is written
            if await self.store.finish(item, owner, extraction=extraction):
                BATCH_ITEMS.labels("succeeded").inc()
            else:
                logger.warning(
                    "item %s was taken back (lease lost or batch cancelled); result discarded", item.id
                )
        except Exception:  # the lease runs out and the item is extracted again
            logger.exception("writing the result of item %s failed", item.id)
        finally:
            self._finish_slots.release()

    def _pause(self, seconds: float) -> None:
        """Claim nothing for `seconds`: the LLM asked for a rest, or the circuit breaker holds calls."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    async def _renew(self, item: ClaimedItem, owner: str, done: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=self.lease_seconds / 3)
            if done.is_set() or not await self.store.renew(item.id, owner):
                return

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
