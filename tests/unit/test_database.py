"""SQLite transactions: writers queue behind each other, readers never wait for them."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from factline.database import create_engine, reading_sessions, sessions


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
