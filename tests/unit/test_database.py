"""SQLite transactions: writers queue behind each other, readers never wait for them."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from factline.database import asyncpg_connect_args, create_engine, reading_sessions, sessions


async def test_a_read_does_not_wait_for_a_writer_holding_the_lock(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    writing = sessions(engine)
    async with writing.begin() as session:
        await session.execute(text("create table t (x int)"))
    async with writing.begin() as holder:
        await holder.execute(text("insert into t values (1)"))  # BEGIN IMMEDIATE: the write lock is held
        async with reading_sessions(writing)() as reader:
            # The uncommitted row is invisible, and the read answers at once instead of waiting 30 s.
            assert await asyncio.wait_for(reader.scalar(text("select count(*) from t")), timeout=5) == 0
    await engine.dispose()


async def test_write_transactions_of_one_process_take_turns_on_sqlite(tmp_path: Path) -> None:
    """Twenty writers at once: never two transactions open together, so none sleeps in SQLite's busy
    handler, and every write lands."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    writing = sessions(engine)
    async with writing.begin() as session:
        await session.execute(text("create table t (x int)"))
    open_now, most_open = 0, 0

    async def write(value: int) -> None:
        nonlocal open_now, most_open
        async with writing.begin() as session:
            open_now += 1
            most_open = max(most_open, open_now)
            await session.execute(text("insert into t values (:x)"), {"x": value})
            await asyncio.sleep(0.005)  # other writers get every chance to start meanwhile
            open_now -= 1

    await asyncio.gather(*(write(n) for n in range(20)))
    async with reading_sessions(writing)() as reader:
        assert await reader.scalar(text("select count(*) from t")) == 20
    assert most_open == 1
    await engine.dispose()


async def test_writes_run_on_the_loop_thread_and_reads_on_aiosqlites(tmp_path: Path) -> None:
    """A write transaction's statements skip the thread hand-off (it held the write lock while the
    loop was busy); a read, which may be long, still runs off the loop."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")

    @event.listens_for(engine.sync_engine, "connect")
    def _thread_function(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.create_function("thread_id", 0, threading.get_ident)

    writing = sessions(engine)
    async with writing.begin() as session:
        written_on = await session.scalar(text("select thread_id()"))
    async with reading_sessions(writing)() as reader:
        read_on = await reader.scalar(text("select thread_id()"))
    assert written_on == threading.get_ident()
    assert read_on != threading.get_ident()
    await engine.dispose()


async def test_session_makers_of_one_database_share_its_writer_queue(tmp_path: Path) -> None:
    """The cache and the batch store each have a session maker: with two queues, a writer of one
    would wait in SQLite's busy handler, on the loop's thread, for the other's unfinished transaction."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    cache, store = sessions(engine), sessions(engine)
    async with cache.begin() as session:
        await session.execute(text("create table t (x int)"))
    order: list[str] = []

    async def write(maker: Any, name: str) -> None:
        async with maker.begin() as session:
            order.append(f"{name} begins")
            await session.execute(text("insert into t values (1)"))
            await asyncio.sleep(0.02)
            order.append(f"{name} ends")

    await asyncio.wait_for(asyncio.gather(write(cache, "cache"), write(store, "store")), timeout=10)
    assert order == ["cache begins", "cache ends", "store begins", "store ends"]
    await engine.dispose()


def test_lookup_connections_read_the_url_as_the_engine_does() -> None:
    url = "postgresql+asyncpg://u:secret@db.internal:6432/facts?ssl=require&prepared_statement_cache_size=0"
    assert asyncpg_connect_args(url) == {
        "host": "db.internal",
        "port": 6432,
        "user": "u",
        "password": "secret",
        "database": "facts",
        "ssl": "require",
    }
