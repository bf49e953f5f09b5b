"""`INSERT … ON CONFLICT` for the dialects factline runs on: writes that may be repeated, and tallies."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from sqlalchemy import Insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import ColumnCollection

from factline.tables import Base, core_table

# Given the row in the table and the row being inserted (`excluded`), the row's new values.
Merge = Callable[[ColumnCollection[str, Any], ColumnCollection[str, Any]], dict[str, Any]]


async def insert_ignoring_duplicates(
    session: AsyncSession,
    table: type[Base],
    values: dict[str, Any] | list[dict[str, Any]],
    keys: list[str],
) -> None:
    """Insert rows unless a row with the same `keys` exists.

    The rows go as parameters of one cached statement (executemany), not as a statement built and
    compiled for each list of rows.
    """
    await session.execute(_statement(session.get_bind().dialect.name, table, tuple(keys)), values)


@cache
def _statement(dialect: str, table: type[Base], keys: tuple[str, ...]) -> Insert:
    """Built once per table and dialect, not on every write of a result line or cache row."""
    return _insert(dialect, table).on_conflict_do_nothing(index_elements=list(keys))


async def insert_or_merge(
    session: AsyncSession,
    table: type[Base],
    values: list[dict[str, Any]],
    keys: list[str],
    merge: Merge,
) -> None:
    """Insert rows; where a row with the same `keys` exists, set it to `merge`'s values instead."""
    await session.execute(_merging(session.get_bind().dialect.name, table, tuple(keys), merge), values)


@cache
def _merging(dialect: str, table: type[Base], keys: tuple[str, ...], merge: Merge) -> Insert:
    statement = _insert(dialect, table)
    existing = table.__table__.c
    return statement.on_conflict_do_update(
        index_elements=list(keys), set_=merge(existing, statement.excluded)
    )


def _insert(dialect: str, table: type[Base]) -> postgresql.Insert | sqlite.Insert:
    """On the table, not the mapped class: the ORM's bulk-insert path around the same statement cost
    a few percent of a batch worker's CPU per row set, for nothing the rows need."""
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(core_table(table))
