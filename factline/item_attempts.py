"""What becomes of a claimed batch item, whichever queue handed it over: its lease renewed while the
LLM works, its outcome recorded once. factline's own workers (`batch_workers`) and procrastinate's
jobs (`procrastinate_queue`) differ only in how an item reaches them and what they do next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

from factline.batch_store import BatchStore, ClaimedItem, Describe
from factline.errors import LLMCircuitOpen, LLMRateLimited
from factline.metrics import BATCH_ITEMS
from schemas import Extraction

logger = logging.getLogger("factline.batches")

DEFAULT_RATE_LIMIT_PAUSE = 5.0
T = TypeVar("T")


async def to_completion(step: Awaitable[T]) -> T:
    """Run a database step to its end even when the caller is cancelled (a worker stopping), then let
    the cancellation through: a transaction cut off by cancellation can stay open (on SQLite holding the
    write lock, on PostgreSQL the rows), and what follows would wait for it."""
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise


def process_name() -> str:
    """This process among all workers: host, pid, and a random part (pids are reused). `lease_owner` is
    64 characters wide (PostgreSQL enforces it): a long host name is cut."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class ItemAttempts:
    def __init__(self, store: BatchStore, describe: Describe, lease_seconds: float) -> None:
        self.store = store
        self.describe = describe
        self.lease_seconds = lease_seconds

    @contextlib.asynccontextmanager
    async def renewing(self, item: ClaimedItem, owner: str) -> AsyncIterator[None]:
        """The item's lease renewed while the block runs; no renewal runs after it (its outcome is
        written next)."""
        done = asyncio.Event()
        heartbeat = asyncio.create_task(self._renew(item, owner, done))
        try:
            yield
        finally:
            done.set()
            await asyncio.wait({heartbeat})

    async def _renew(self, item: ClaimedItem, owner: str, done: asyncio.Event) -> None:
        """Keep the item's lease until `done` (or until the lease was lost)."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), timeout=self.lease_seconds / 3)
            if done.is_set() or not await self.store.renew(item.id, owner):
                return

    async def succeed(self, item: ClaimedItem, owner: str, extraction: Extraction) -> None:
        if await self.store.finish(item, owner, extraction=extraction):
            BATCH_ITEMS.labels("succeeded").inc()
        else:
            logger.warning(
                "item %s was taken back (lease lost or batch cancelled); result discarded", item.id
            )

    async def fail(self, item: ClaimedItem, owner: str, error: Exception) -> float:
        """Record a failed attempt; returns how long this process should claim nothing (0: go on).

        While the circuit breaker holds LLM calls, no call was made: the item goes back to the queue
        until the probe may run. A rate limit that outlasted the client's retries is the item's problem
        (its `retry` queues it again), and the process rests until the provider's Retry-After.
        """
        if isinstance(error, LLMCircuitOpen):
            logger.info("LLM calls paused: item %s back in the queue for %d s", item.id, error.retry_after)
            await self.store.release(item.id, owner, error.retry_after)
            return float(error.retry_after)
        if await self.store.finish(item, owner, problem=self.describe(error)):
            BATCH_ITEMS.labels("failed").inc()
        if isinstance(error, LLMRateLimited):
            return float(error.retry_after) if error.retry_after is not None else DEFAULT_RATE_LIMIT_PAUSE
        return 0.0
