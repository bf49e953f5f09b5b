"""Which queue feeds the batch workers, and how procrastinate's driver finds the database."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from factline.procrastinate_queue import libpq_url
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
