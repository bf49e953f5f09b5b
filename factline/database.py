"""The database: an async engine for `FACTLINE_DATABASE_URL`, brought to the newest schema by Alembic.

SQLite gets WAL (readers never wait for the writer), a busy timeout, and `BEGIN IMMEDIATE`
transactions: a transaction that reads then writes would otherwise fail at once when another
connection wrote in between, instead of waiting its turn.

PostgreSQL (`postgresql+asyncpg://…`) is what several processes on several machines share: workers
claim with `FOR UPDATE SKIP LOCKED`, and start-up migrations are serialised by an advisory lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, event, text
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from factline.sqlite_connections import connector, statements_on_loop_thread

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_READ_ONLY = "factline_read_only"
# Keys of PostgreSQL advisory locks (any constants; they only need to differ from each other).
MIGRATION_LOCK = 0x6661_6374  # "fact"
RESULTS_LOCK = 0x6C69_6E65  # "line"
VIEWS_LOCK = 0x7669_6577  # "view"


def create_engine(url: str, batch_jobs: int = 1, *, checkpoints_elsewhere: bool = False) -> AsyncEngine:
    """`batch_jobs`: the batch items this process's workers hold at once, each of which may hold a
    connection; the pool keeps that many and some for the API, so workers never wait for a connection.
    `checkpoints_elsewhere`: a SQLite file's commits leave its WAL checkpoints to `wal_checkpoints`."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, pool_size=batch_jobs + 5, max_overflow=10)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, async_creator=connector(parsed.database, timeout=30))
    else:
        engine = create_async_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below, not the driver's
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        if checkpoints_elsewhere:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.get_execution_options().get(_READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


_WRITERS: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


class OneWriterAtATime(async_sessionmaker[AsyncSession]):
    """Write transactions (`begin()`) of this process queue on an asyncio lock, for SQLite.

    SQLite admits one writer. Without the queue, concurrent writers wait in SQLite's busy handler,
    which sleeps in steps of 1 to 100 ms: a burst of batch workers finishing together lost tens of
    milliseconds each. The lock hands the database to the next writer the moment it is free, and
    the transaction's statements run on the loop's thread (`sqlite_connections`), so it holds the
    lock for the time SQLite needs, not for the loop's turns.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        super().__init__(engine, expire_on_commit=False)
        # One queue per database, however many session makers share it (the cache and the batch
        # store each have one): two queues would let two writers meet in SQLite's busy handler,
        # which, with statements on the loop's thread, blocks the loop the other writer needs.
        self._writer = _WRITERS.setdefault(engine.sync_engine, asyncio.Lock())

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:  # type: ignore[override]
        async with self._writer:
            with statements_on_loop_thread():
                async with super().begin() as session:
                    yield session


def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    if engine.dialect.name == "sqlite":
        return OneWriterAtATime(engine)
    return async_sessionmaker(engine, expire_on_commit=False)


def reading_sessions(writing: async_sessionmaker[AsyncSession]) -> async_sessionmaker[AsyncSession]:
    """Sessions for reads only: on SQLite their deferred BEGIN takes no write lock, so a lookup (a cache
    hit, a status poll) never queues behind writers."""
    engine: AsyncEngine = writing.kw["bind"]
    return async_sessionmaker(engine.execution_options(**{_READ_ONLY: True}), expire_on_commit=False)


def blocking_reader(url: str) -> sqlite3.Connection | None:
    """For a SQLite file, a read-only sqlite3 connection for one-row lookups on the event loop.

    An indexed lookup in SQLite takes microseconds, while aiosqlite hands every statement to a thread
    and back: ~4 ms of CPU per cache lookup was measured, most of a request's overhead. In WAL mode a
    reader never waits for the writer, so blocking the loop for it is cheaper than the hand-off. The
    bare DB-API connection (autocommit: each lookup sees the latest commit) skips SQLAlchemy's
    connection checkout and result machinery, ~0.15 ms per lookup. Other databases have a native
    async driver; they get None.
    """
    if (path := sqlite_file(url)) is None:
        return None
    connection = sqlite3.connect(path, timeout=5, check_same_thread=False, isolation_level=None)
    connection.execute("PRAGMA query_only=ON")
    return connection


def sqlite_file(url: str) -> str | None:
    """The path of the SQLite file `url` names; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return parsed.database


async def lookup_pool(url: str) -> asyncpg.Pool | None:
    """For PostgreSQL, bare asyncpg connections for one-row lookups, each statement its own transaction.

    Through the main pool a lookup was a pre-ping (asyncpg's ping opens a transaction for it: BEGIN,
    `;`, ROLLBACK), then BEGIN, SELECT, ROLLBACK: 1.26-1.43 ms, client CPU 0.92-1.07 ms. Through an
    autocommit SQLAlchemy engine without the ping, a pool checkout and an execution context in
    greenlets around the SELECT: 0.26 ms, CPU 0.21 ms. Here 0.15 ms, CPU 0.10 ms. A released
    connection is not reset (asyncpg's reset is a round trip, and nothing but a SELECT runs on these);
    one lost to a restart is replaced by the lookup that meets it (`factline.cache`). SQLite gets
    None: `blocking_reader` is its cheaper path.
    """
    if make_url(url).get_backend_name() != "postgresql":
        return None
    return await asyncpg.create_pool(min_size=1, max_size=5, reset=_unchanged, **asyncpg_connect_args(url))


def asyncpg_connect_args(url: str) -> dict[str, Any]:
    """`asyncpg.connect`'s arguments for a URL, read as SQLAlchemy's engine reads it (`?ssl=…` and
    other query options included), less the options of SQLAlchemy's own statement cache."""
    _, connect_args = cast(Any, PGDialect_asyncpg)().create_connect_args(make_url(url))
    for sqlalchemy_only in ("prepared_statement_cache_size", "prepared_statement_name_func"):
        connect_args.pop(sqlalchemy_only, None)
    return cast(dict[str, Any], connect_args)


async def _unchanged(_: asyncpg.Connection) -> None:
    """A lookup connection's state after a SELECT in autocommit is its state before it."""


def factline_owns(name: str | None, type_: str, parent_names: Mapping[Any, str | None]) -> bool:
    """What Alembic compares with the declared tables: not procrastinate's, whose schema it ships."""
    table = name if type_ == "table" else parent_names.get("table_name")
    return not (table or "").startswith("procrastinate_")


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url:
        config.set_main_option("sqlalchemy.url", url)
    return config


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Services and workers starting at once would otherwise race to create the same tables.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Apply every migration the database has not seen yet (run at start-up)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)
