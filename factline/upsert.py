"""`INSERT … ON CONFLICT DO NOTHING` for the dialects factline runs on: writes that may be repeated."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert
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
    await session.execute(_statement(session.get_bind().dialect.name, table, tuple(keys)), values)


@cache
def _statement(dialect: str, table: type[DeclarativeBase], keys: tuple[str, ...]) -> Insert:
    """Built once per table and dialect, not on every write of a result line or cache row."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(keys))
