"""The extraction cache: an article extracted once is not sent to the LLM again.

The key hashes everything that determines a result: the messages sent to the model (text, title,
publication date, requested types, prompt), the model, the prompt version, the grounding threshold
and factline's release (which grounds and completes the model's answer). Metadata that is only
echoed back (id, url, source, language) is not part of it: a hit gets the current request's
metadata, a new id and time, zero usage and `cached: true`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import sqlite3
import uuid
import weakref
from datetime import UTC, datetime
from typing import cast

import asyncpg
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import factline
from factline.database import reading_sessions
from factline.extraction import Extractor
from factline.llm import LLMClient
from factline.metrics import CACHE_LOOKUPS
from factline.prompting import extraction_prompt, plan_extraction_calls, quote_candidates_for
from factline.settings import Settings
from factline.tables import CacheRow, utcnow
from factline.upsert import insert_ignoring_duplicates
from schemas import ArticleInfo, Extraction, ExtractionRequest, Usage, WarningCode

_LOOKUP = select(CacheRow.extraction_json).where(CacheRow.key == bindparam("key"))
_LOOKUP_SQL = f"SELECT extraction_json FROM {CacheRow.__tablename__} WHERE key = ?"
_LOOKUP_PG = f"SELECT extraction_json FROM {CacheRow.__tablename__} WHERE key = $1"
# How asyncpg reports a connection the server closed (asyncpg's protocol may meet the closing first).
_CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    ConnectionError,
)
NO_USAGE = Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0, llm_calls=0)


def cache_key(request: ExtractionRequest, model: str, settings: Settings) -> str:
    calls = plan_extraction_calls(request, quote_candidates_for(request), settings.call_plan)
    determinants = {
        "messages": [call.messages for call in calls],
        "types": [str(t) for t in request.types],
        "published": request.published_date.isoformat() if request.published_date else None,
        "model": model,
        "prompt_version": extraction_prompt().version,
        "release": factline.__version__,
        "fuzzy_threshold": settings.fuzzy_match_threshold,
        # A long article is answered in parts: how it is cut changes what is found.
        "chunks": [settings.chunk_budget_tokens, settings.chunk_overlap_tokens],
    }
    return hashlib.sha256(json.dumps(determinants, sort_keys=True).encode("utf-8")).hexdigest()


def _served_from_cache(cached: Extraction, request: ExtractionRequest) -> Extraction:
    return cached.model_copy(
        update={
            "id": f"ext_{uuid.uuid4().hex}",
            "created_at": datetime.now(UTC),
            "article": ArticleInfo(
                **request.model_dump(include=set(ArticleInfo.model_fields) - {"sha256", "characters"}),
                sha256=cached.article.sha256,
                characters=cached.article.characters,
            ),
            "usage": NO_USAGE,
            "cached": True,
        }
    )


async def _looked_up_reconnecting(pool: asyncpg.Pool, key: str) -> str | None:
    """A lookup on a pooled connection used as it is, tried once more on a fresh one if it was lost
    (a database restart): testing each connection first would cost a round trip on every lookup."""
    try:
        return cast(str | None, await pool.fetchval(_LOOKUP_PG, key))
    except _CONNECTION_LOST:
        await pool.expire_connections()  # the others went with it
        return cast(str | None, await pool.fetchval(_LOOKUP_PG, key))


class _WriteBehind:
    """New cache rows, written a batch at a time a moment after they arrive.

    One transaction per extraction would take the database's write lock (SQLite has one) hundreds of
    times a second under load; a batch takes it once. Rows not yet written are served from here, and
    `aclose` writes what is left; a crash can lose only a few cache rows, never a result. A row is
    the JSON its response was (`Contract.json_bytes`), or is serialised when written: not on a
    request's path.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], delay_seconds: float = 0.05) -> None:
        self.sessions = sessions
        self.delay_seconds = delay_seconds
        self.pending: dict[str, Extraction] = {}
        self._flush: asyncio.Task[None] | None = None

    def add(self, key: str, extraction: Extraction) -> None:
        self.pending[key] = extraction
        if self._flush is None:
            self._flush = asyncio.get_running_loop().create_task(self._write_soon())

    async def _write_soon(self) -> None:
        try:
            await asyncio.sleep(self.delay_seconds)
            await self._write()
        finally:
            self._flush = None
            if self.pending:
                self._flush = asyncio.get_running_loop().create_task(self._write_soon())

    async def _write(self) -> None:
        batch = dict(self.pending)
        if not batch:
            return
        now = utcnow()
        rows = [
            {"key": key, "extraction_json": value.json_bytes().decode(), "created_at": now}
            for key, value in batch.items()
        ]
        async with self.sessions.begin() as session:
            await insert_ignoring_duplicates(session, CacheRow, rows, ["key"])
        for key in batch:
            self.pending.pop(key, None)

    async def aclose(self) -> None:
        if self._flush is not None:
            self._flush.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flush
        await self._write()


class CachingExtractor:
    """An `Extractor` that answers repeats from the database, for single and batch extractions alike."""

    def __init__(
        self,
        extractor: Extractor,
        sessions: async_sessionmaker[AsyncSession],
        blocking_reader: sqlite3.Connection | None = None,
        lookup_pool: asyncpg.Pool | None = None,
    ) -> None:
        """`blocking_reader`, when given (SQLite), answers lookups without leaving the event loop;
        `lookup_pool` (PostgreSQL) without SQLAlchemy or a transaction around them."""
        self.extractor = extractor
        self.sessions = sessions
        self.readers = reading_sessions(sessions)
        self.blocking_reader = blocking_reader
        self.lookup_pool = lookup_pool
        self._writes = _WriteBehind(sessions)
        # Identical articles in flight at once wait for the first instead of calling the LLM too.
        self._in_flight: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @property
    def llm(self) -> LLMClient:
        return self.extractor.llm

    async def aclose(self) -> None:
        """Write the cache rows still waiting (at shutdown)."""
        await self._writes.aclose()

    async def _lookup(self, key: str) -> Extraction | None:
        if (pending := self._writes.pending.get(key)) is not None:
            return pending
        if self.blocking_reader is not None:
            # Plain SQL: building and compiling the statement cost more than SQLite's look-up.
            row = self.blocking_reader.execute(_LOOKUP_SQL, (key,)).fetchone()
            found = row[0] if row is not None else None
        elif self.lookup_pool is not None:
            found = await _looked_up_reconnecting(self.lookup_pool, key)
        else:
            async with self.readers() as session:
                found = await session.scalar(_LOOKUP, {"key": key})
        return Extraction.model_validate_json(found) if found is not None else None

    async def extract(self, request: ExtractionRequest) -> Extraction:
        key = cache_key(request, self.extractor.llm.model, self.extractor.settings)
        lock = self._in_flight.setdefault(key, asyncio.Lock())
        async with lock:
            # A hit only reads: a write per hit would serialise every repeat on the database's write lock.
            if (cached := await self._lookup(key)) is not None:
                CACHE_LOOKUPS.labels("hit").inc()
                return _served_from_cache(cached, request)
            CACHE_LOOKUPS.labels("miss").inc()
            extraction = await self.extractor.extract(request)
            if any(warning.code is WarningCode.CHUNK_FAILED for warning in extraction.warnings):
                return extraction  # incomplete: the next request tries the lost part again
            # Written behind, in its own task: a worker cancelled now cannot leave a write transaction open.
            self._writes.add(key, extraction)
            return extraction
