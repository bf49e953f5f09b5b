"""aiosqlite connections whose write transactions run on the event loop's thread.

aiosqlite hands every statement to a thread of its own and the answer back to the event loop. With
the loop busy (sixteen batch workers extracting), each hand-back waits for the loop's next turn, and
a write transaction of a dozen statements held SQLite's single write lock for ~18 ms on average
while the statements themselves took microseconds: measured, the lock was held all the time, and
batches ran at half the speed their LLM allowed. Inside `OneWriterAtATime.begin()` (short indexed
writes, one writer at a time) statements therefore run where they are issued; every other statement
(view pages, result streams: reads that may take a while) still runs on aiosqlite's thread and never
blocks the loop.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

import aiosqlite

_ON_LOOP_THREAD: ContextVar[bool] = ContextVar("factline_sqlite_on_loop_thread", default=False)


class _LoopThreadWhenWriting(aiosqlite.Connection):
    """Runs statements inline while the current task is in a write transaction."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not _ON_LOOP_THREAD.get():
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        return fn(*args, **kwargs)


def connector(database: str, timeout: float) -> Callable[[], aiosqlite.Connection]:
    """SQLAlchemy's `async_creator` for a SQLite file: the sqlite3 connection is shared between
    aiosqlite's thread and the loop's thread, one at a time (the writer lock orders them)."""

    def connect() -> aiosqlite.Connection:
        connection = _LoopThreadWhenWriting(
            partial(sqlite3.connect, database, timeout=timeout, check_same_thread=False), iter_chunk_size=64
        )
        connection._thread.daemon = True  # as SQLAlchemy does for its own aiosqlite connections
        return connection

    return connect


@contextmanager
def statements_on_loop_thread() -> Iterator[None]:
    """Within this block, the current task's SQLite statements run inline (see the module's doc)."""
    token = _ON_LOOP_THREAD.set(True)
    try:
        yield
    finally:
        _ON_LOOP_THREAD.reset(token)
