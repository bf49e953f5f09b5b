"""SQLite's WAL checkpoints: left by the service's commits to a thread of their own."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from factline.database import create_engine, sessions
from factline.wal_checkpoints import checkpointing

ROW = "x" * 16_000  # a cache row's size: four pages of the log
ROWS = 300  # past SQLite's 1,000-page mark, where a commit would copy the log into the file itself


async def _write_rows(engine: AsyncEngine) -> None:
    writing = sessions(engine)
    async with writing.begin() as session:
        await session.execute(text("create table if not exists t (x text)"))
    for _ in range(ROWS):
        async with writing.begin() as session:
            await session.execute(text("insert into t values (:x)"), {"x": ROW})


async def test_without_the_thread_the_services_commits_leave_the_rows_in_the_log(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    engine = create_engine(f"sqlite+aiosqlite:///{database}", checkpoints_elsewhere=True)
    try:
        await _write_rows(engine)
        assert database.stat().st_size < len(ROW)
        assert (tmp_path / "db.sqlite-wal").stat().st_size > ROWS * len(ROW)
    finally:
        await engine.dispose()


async def test_the_thread_copies_the_log_into_the_file(tmp_path: Path) -> None:
    database = tmp_path / "db.sqlite"
    url = f"sqlite+aiosqlite:///{database}"
    engine = create_engine(url, checkpoints_elsewhere=True)
    try:
        async with engine.begin() as connection:  # the file exists, in WAL mode, before the thread starts
            await connection.exec_driver_sql("create table t (x text)")
        with checkpointing(url, interval_seconds=0.05) as running:
            assert running
            await _write_rows(engine)
            for _ in range(100):
                if database.stat().st_size > ROWS * len(ROW):
                    break
                await asyncio.sleep(0.05)
            assert database.stat().st_size > ROWS * len(ROW)
    finally:
        await engine.dispose()


async def test_other_engines_keep_sqlites_automatic_checkpoint(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    try:
        async with engine.connect() as connection:
            assert (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar_one() == 1000
    finally:
        await engine.dispose()


def test_only_sqlite_files_are_checkpointed() -> None:
    for url in ("postgresql+asyncpg://localhost/factline", "sqlite+aiosqlite:///:memory:"):
        with checkpointing(url) as running:
            assert not running


def test_a_file_it_cannot_open_is_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.ERROR, logger="factline.wal_checkpoints"),
        checkpointing(
            f"sqlite+aiosqlite:///{tmp_path}"  # a directory, not a database file
        ),
    ):
        pass
    assert "its WAL grows until the service restarts" in caplog.text
