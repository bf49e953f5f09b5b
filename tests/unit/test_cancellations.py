"""Cancellations reach the processes that work on the batch: at once in the cancelling process, by
NOTIFY on PostgreSQL elsewhere, and again after the listening connection was lost."""

from __future__ import annotations

import asyncio

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from factline.cancellations import CHANNEL, CancelledBatches
from factline.database import create_engine, sessions


async def _announce_until_heard(engine: AsyncEngine, heard: CancelledBatches, batch_id: str) -> None:
    """Announce (as a cancelling transaction does) until the listener has it: it may still connect."""
    make_session = sessions(engine)
    for _ in range(100):
        async with make_session.begin() as session:
            await CancelledBatches.announce(session, batch_id)
        await asyncio.sleep(0.05)
        if batch_id in heard:
            return
    raise AssertionError(f"{batch_id} never heard")


async def test_cancellations_are_heard_again_after_the_connection_is_lost(postgres_url: str) -> None:
    engine = create_engine(postgres_url)
    heard = CancelledBatches()
    listening = asyncio.create_task(heard.listen(engine))
    try:
        await _announce_until_heard(engine, heard, "bat_first")
        async with engine.begin() as connection:
            killed = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE query = :listen AND pid <> pg_backend_pid()"
                ),
                {"listen": f'LISTEN "{CHANNEL}"'},
            )
        assert killed == 1
        await _announce_until_heard(engine, heard, "bat_second")
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await engine.dispose()
