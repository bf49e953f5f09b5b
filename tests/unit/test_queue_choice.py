"""Which queue feeds the batch workers, how procrastinate's driver finds the database, and when an
item's job runs again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from procrastinate import RetryDecision
from procrastinate.jobs import Job
from pydantic import ValidationError

from factline.procrastinate_queue import EXTRACT_ITEM, QUEUE, AgainWhenDue, Postponed, libpq_url
from tests.conftest import make_settings

POSTGRES = "postgresql+asyncpg://factline:secret@db.internal:5432/factline"


@pytest.mark.parametrize(
    ("database_url", "queue", "procrastinate"),
    [
        (POSTGRES, "auto", True),
        (POSTGRES, "database", False),
        (POSTGRES, "procrastinate", True),
        ("sqlite+aiosqlite:///factline.db", "auto", False),
        ("sqlite+aiosqlite:///factline.db", "database", False),
    ],
)
def test_procrastinate_serves_postgresql_unless_told_otherwise(
    database_url: str, queue: str, procrastinate: bool
) -> None:
    settings = make_settings(database_url=database_url, batch_queue=queue)
    assert settings.uses_procrastinate is procrastinate


def test_procrastinate_on_sqlite_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="needs a PostgreSQL"):
        make_settings(database_url="sqlite+aiosqlite:///factline.db", batch_queue="procrastinate")


def test_psycopg_gets_the_same_database_in_libpq_terms() -> None:
    assert libpq_url(POSTGRES) == "postgresql://factline:secret@db.internal:5432/factline"
    assert libpq_url(f"{POSTGRES}?ssl=require") == (
        "postgresql://factline:secret@db.internal:5432/factline?sslmode=require"
    )


def _job(attempts: int) -> Job:
    return Job(
        id=7,
        queue=QUEUE,
        lock=None,
        queueing_lock=None,
        task_name=EXTRACT_ITEM,
        task_kwargs={"item_id": "itm_1"},
        attempts=attempts,
    )


def _delay(decision: RetryDecision) -> float:
    assert decision.retry_at is not None
    return (decision.retry_at - datetime.now(UTC)).total_seconds()


def test_an_item_job_never_ends_for_good_before_its_item_is_done() -> None:
    strategy = AgainWhenDue()
    assert 29 < _delay(strategy.get_retry_decision(exception=Postponed(30), job=_job(0))) <= 30
    aborted = strategy.get_retry_decision(exception=asyncio.CancelledError(), job=_job(0))
    assert aborted.retry_at is None  # at once
    # A database hiccup (or a bug): again, backing off, never given up.
    assert 0 < _delay(strategy.get_retry_decision(exception=OSError("gone"), job=_job(0))) <= 1
    assert 30 < _delay(strategy.get_retry_decision(exception=OSError("gone"), job=_job(5))) <= 32
    assert 299 < _delay(strategy.get_retry_decision(exception=OSError("gone"), job=_job(40))) <= 300
