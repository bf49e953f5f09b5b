"""What the service and `factline worker` ask of batch workers, whichever queue feeds them, and what
every kind of worker holds: the item attempts they make, and the rest a rate limit imposes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator
from functools import partial
from types import FrameType

from factline.batch_store import BatchStore, ClaimedItem, Describe
from factline.cache import CachingExtractor
from factline.errors import LLMCallWithdrawn
from factline.item_attempts import ItemAttempts, process_name
from factline.llm import turns_also_taking
from schemas import Extraction, ExtractionRequest

logger = logging.getLogger("factline.batches")


def batch_jobs(concurrency: int) -> int:
    """Items a process's workers hold at once, while `concurrency` LLM calls at most are made for them
    (`Workers.llm_slot`): each call has one more item beside it, being claimed, looked up in the cache,
    prepared, read, or having its result written. A slot held through that work (a result's write
    waits its turn for the database's writer, the batch's and the views' locks) was a slot doing
    nothing: with procrastinate at 32 items/s, a batch took 1.11-1.15 times its ideal time."""
    return 2 * concurrency


class Workers(ABC):
    def __init__(
        self,
        store: BatchStore,
        extractor: CachingExtractor,
        describe: Describe,
        *,
        concurrency: int,
        lease_seconds: float,
    ) -> None:
        self.store = store
        self.extractor = extractor
        self.attempts = ItemAttempts(store, describe, lease_seconds)
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.process = process_name()
        self._paused_until = 0.0
        self._llm_slots = asyncio.Semaphore(concurrency)
        self._hearing: asyncio.Task[None] | None = None
        self._extractions: dict[asyncio.Task[Extraction], str] = {}  # each with its batch id
        store.cancelled.subscribe(self._abandon_batch)

    @property
    def jobs(self) -> int:
        return batch_jobs(self.concurrency)

    @contextlib.asynccontextmanager
    async def llm_slot(self, item: ClaimedItem) -> AsyncIterator[None]:
        """One of `concurrency` places to call the LLM in for `item` (`turns_also_taking`), once a rate
        limit's rest is over and unless the item's batch was cancelled while it waited (`cancellations`)."""
        async with self._llm_slots:
            await asyncio.sleep(self._paused_until - time.monotonic())
            if item.batch_id in self.store.cancelled:
                raise LLMCallWithdrawn(f"batch {item.batch_id} was cancelled")
            yield

    async def extract(self, item: ClaimedItem) -> Extraction:
        """The item's extraction, in a task of its own with its LLM calls in this process's slots.
        Raises `LLMCallWithdrawn` when it is abandoned: its batch cancelled before or during it (its
        answer would be discarded), or the workers stopping (`abandon_extractions`)."""
        request = ExtractionRequest.model_validate_json(item.request_json)
        with turns_also_taking(partial(self.llm_slot, item)):
            extraction = asyncio.create_task(self.extractor.extract(request))
        self._extractions[extraction] = item.batch_id
        try:
            return await extraction
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # this worker itself is being cancelled
            raise LLMCallWithdrawn(f"the extraction of item {item.id} was abandoned") from None
        finally:
            del self._extractions[extraction]

    def abandon_extractions(self) -> None:
        """Cancel every extraction under way (the workers stop)."""
        for extraction in self._extractions:
            extraction.cancel()

    def _abandon_batch(self, batch_id: str) -> None:
        abandoned = [extraction for extraction, of_batch in self._extractions.items() if of_batch == batch_id]
        for extraction in abandoned:
            extraction.cancel()
        if abandoned:
            logger.info(
                "batch %s was cancelled: abandoned %d extractions under way", batch_id, len(abandoned)
            )

    def hear_cancellations(self) -> None:
        """On PostgreSQL, other processes cancel batches too: hear of it until `stop_hearing`."""
        engine = self.store.sessions.kw["bind"]
        if engine.dialect.name == "postgresql":
            self._hearing = asyncio.create_task(
                self.store.cancelled.listen(engine), name="batch-cancellations"
            )

    async def stop_hearing(self) -> None:
        hearing, self._hearing = self._hearing, None
        if hearing is not None:
            hearing.cancel()
            await asyncio.gather(hearing, return_exceptions=True)

    def _pause(self, seconds: float) -> None:
        """Start nothing for `seconds`: the LLM asked for a rest, or the circuit breaker holds calls."""
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None:
        """Stop working and give back what this process holds, so nothing waits for a lease to expire."""

    @abstractmethod
    def wake(self) -> None:
        """New work was queued: idle workers look now rather than at their next poll."""

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
