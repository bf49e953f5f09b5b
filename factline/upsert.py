"""`INSERT … ON CONFLICT DO NOTHING` for the dialects factline runs on: writes that may be repeated."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase


async def insert_ignoring_duplicates(
    session: AsyncSession,
    table: type[DeclarativeBase],
    values: dict[str, Any] | list[dict[str, Any]],
    keys: list[str],
) -> None:
    """Insert rows unless a row with the same `keys` exists.

    The rows go as parameters of one cached statement (executemany), not as a statement built and
    compiled for each list of rows.
    """
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(insert(table).on_conflict_do_nothing(index_elements=keys), values)
