"""The extraction cache: repeats cost no LLM call, and rows written behind survive a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from factline.cache import CachingExtractor
from factline.database import blocking_reader, create_engine, lookup_pool, sessions, upgrade_to_head
from factline.extraction import assemble_extraction
from factline.settings import Settings
from schemas import Extraction, ExtractionRequest, Usage, facts_model_for


class CountingExtractor:
    """Stands in for `Extractor`: builds a real result without an LLM, counting the calls."""

    def __init__(self) -> None:
        self.calls = 0
        self.settings = Settings(_env_file=None, local_model="none")
        self.llm: Any = type("LLM", (), {"model": "m"})()

    async def extract(self, request: ExtractionRequest) -> Extraction:
        self.calls += 1
        facts = facts_model_for(request.types).model_validate(
            {"actors": [], "reported_quotes": [], "events": [], "positions": [], "proposals": []}
        )
        usage = Usage(prompt_tokens=5, completion_tokens=5, total_tokens=10, llm_calls=1)
        return assemble_extraction(
            request, facts, usage=usage, model="m", prompt_version="v", fuzzy_threshold=90
        )


@pytest.mark.parametrize("read_blocking", [False, True], ids=["async-reads", "blocking-reads"])
async def test_repeats_are_served_before_and_after_the_rows_are_written(
    tmp_path: Path, read_blocking: bool
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cache.db'}"
    engine = create_engine(url)
    await upgrade_to_head(engine)
    request = ExtractionRequest(text="An article.", title="One")
    inner = CountingExtractor()
    cache = CachingExtractor(inner, sessions(engine))  # type: ignore[arg-type]
    first = await cache.extract(request)
    repeat = await cache.extract(request)  # still waiting to be written: served from memory
    assert (inner.calls, first.cached, repeat.cached, repeat.usage.llm_calls) == (1, False, True, 0)
    other = await cache.extract(ExtractionRequest(text="An article.", title="Two"))  # the title is in the key
    assert (inner.calls, other.cached) == (2, False)
    await cache.aclose()

    reader = blocking_reader(url) if read_blocking else None
    restarted = CountingExtractor()
    after_restart = CachingExtractor(restarted, sessions(engine), reader)  # type: ignore[arg-type]
    assert (await after_restart.extract(request)).cached
    assert restarted.calls == 0
    await engine.dispose()
    if reader is not None:
        reader.close()


async def test_postgresql_lookups_find_written_rows_outside_any_transaction(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    await upgrade_to_head(engine)
    request = ExtractionRequest(text="An article.", title="One")
    writer = CachingExtractor(CountingExtractor(), sessions(engine))  # type: ignore[arg-type]
    await writer.extract(request)
    await writer.aclose()

    lookups = await lookup_pool(postgres_url)
    assert lookups is not None
    assert await lookup_pool("sqlite+aiosqlite:///factline.db") is None
    restarted = CountingExtractor()
    after_restart = CachingExtractor(restarted, sessions(engine), lookup_pool=lookups)  # type: ignore[arg-type]
    assert (await after_restart.extract(request)).cached
    assert restarted.calls == 0
    # Connections are not tested before use: one lost to a database restart is replaced by the lookup.
    async with engine.begin() as connection:
        killed = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    assert killed >= 1
    assert (await after_restart.extract(request)).cached
    assert restarted.calls == 0
    async with lookups.acquire() as connection:  # each statement its own transaction: no BEGIN, no ROLLBACK
        await connection.execute("SELECT pg_sleep(0.01)")
        # In a transaction, now() would still be the time before the sleep.
        assert await connection.fetchval("SELECT statement_timestamp() - now() < interval '5 ms'")
    await lookups.close()
    await engine.dispose()
