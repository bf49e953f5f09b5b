"""`INSERT … ON CONFLICT` for the dialects factline runs on: writes that may be repeated, and tallies."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.expression import ColumnCollection

# Given the row in the table and the row being inserted (`excluded`), the row's new values.
Merge = Callable[[ColumnCollection[str, Any], ColumnCollection[str, Any]], dict[str, Any]]


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
    return _insert(dialect, table).on_conflict_do_nothing(index_elements=list(keys))


async def insert_or_merge(
    session: AsyncSession,
    table: type[DeclarativeBase],
    values: list[dict[str, Any]],
    keys: list[str],
    merge: Merge,
) -> None:
    """Insert rows; where a row with the same `keys` exists, set it to `merge`'s values instead."""
    await session.execute(_merging(session.get_bind().dialect.name, table, tuple(keys), merge), values)


@cache
def _merging(dialect: str, table: type[DeclarativeBase], keys: tuple[str, ...], merge: Merge) -> Insert:
    statement = _insert(dialect, table)
    existing = table.__table__.c
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_=merge(existing, statement.excluded)
    )


def _insert(dialect: str, table: type[DeclarativeBase]) -> postgresql.Insert | sqlite.Insert:
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
