"""What the service and `factline worker` ask of batch workers, whichever queue feeds them, and what
every kind of worker holds: the item attempts they make, and the rest a rate limit imposes."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from types import FrameType

from factline.batch_store import BatchStore, Describe
from factline.cache import CachingExtractor
from factline.item_attempts import ItemAttempts, process_name


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
