"""The database tables: batches, their items, the items' result lines, the extraction cache, and the
cross-article views (`view_*`), updated as each item's result is written.

Times are stored as naive UTC (`UTCDateTime`) so that SQLite compares them as text correctly and
PostgreSQL stores the same values.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ARTICLE_ID_WIDTH = 1024


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in Python, naive UTC in the database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


def core_table(model: type[Base]) -> Table:
    """The Core table of a model: statements on it skip the ORM's bulk insert and update machinery."""
    return cast(Table, model.__table__)


class BatchRow(Base):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    archive_kind: Mapped[str] = mapped_column(String(16))
    filename: Mapped[str | None] = mapped_column(String(512))
    types: Mapped[str | None] = mapped_column(String(64))
    total: Mapped[int] = mapped_column(Integer)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ItemRow(Base):
    """One article of a batch; `status` moves queued → running → succeeded | failed | cancelled."""

    __tablename__ = "batch_items"
    __table_args__ = (Index("ix_batch_items_claim", "status", "available_at", "position"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    article_id: Mapped[str | None] = mapped_column(String(ARTICLE_ID_WIDTH))
    request_json: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    llm_calls: Mapped[int] = mapped_column(Integer, default=0)
    cached: Mapped[bool] = mapped_column(Boolean, default=False)


class ResultRow(Base):
    """The one result line of a finished item; `seq` orders the results stream and is its cursor."""

    __tablename__ = "batch_results"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("batch_items.id", ondelete="CASCADE"), unique=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    line_json: Mapped[str] = mapped_column(Text)


class CacheRow(Base):
    """A finished extraction, keyed by a hash of everything that determines it."""

    __tablename__ = "extraction_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    extraction_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ViewActorRow(Base):
    """A person or organisation across articles, under the key names are merged by."""

    __tablename__ = "view_actors"

    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    name: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(16))
    surname: Mapped[str | None] = mapped_column(String(256), index=True)


class ViewActorNameRow(Base):
    """A name or role an actor was given, where first, and why it was merged into the actor."""

    __tablename__ = "view_actor_names"
    __table_args__ = (UniqueConstraint("actor_key", "kind", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    actor_key: Mapped[str] = mapped_column(String(256), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(512))
    article_id: Mapped[str | None] = mapped_column(String(1024))
    reason: Mapped[str] = mapped_column(Text)


class ViewActorItemRow(Base):
    """That an actor appears in an article of a batch: which actors a set of batches has."""

    __tablename__ = "view_actor_items"
    __table_args__ = (Index("ix_view_actor_items_batch", "batch_id", "actor_key"),)

    actor_key: Mapped[str] = mapped_column(String(256), primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("batch_items.id", ondelete="CASCADE"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))


class ViewFactRow(Base):
    """One quote, event, position or proposal of one article, with the date it is ordered by."""

    __tablename__ = "view_facts"
    __table_args__ = (
        Index("ix_view_facts_timeline", "batch_id", "kind", "date", "id"),
        # A proposal's reports in date order, the batch at hand in the index: its page reads only the
        # reports it shows, and counts them without touching the table.
        Index("ix_view_facts_proposal", "proposal_id", "date", "id", "batch_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(ForeignKey("batch_items.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    date: Mapped[date | None] = mapped_column(Date)
    proposal_id: Mapped[int | None] = mapped_column(Integer)
    payload_json: Mapped[str] = mapped_column(Text)
    search_text: Mapped[str] = mapped_column(Text)


class ViewFactActorRow(Base):
    """Who a fact is by or about: speaker, holder, proposer, supporter, opponent or participant."""

    __tablename__ = "view_fact_actors"
    # An actor's facts of one kind in date order, the batch in the index: a page reads the facts it
    # shows and counts the rest from the index alone.
    __table_args__ = (Index("ix_view_fact_actors_actor", "actor_key", "kind", "date", "fact_id", "batch_id"),)

    fact_id: Mapped[int] = mapped_column(ForeignKey("view_facts.id", ondelete="CASCADE"), primary_key=True)
    actor_key: Mapped[str] = mapped_column(String(256), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))
    date: Mapped[date | None] = mapped_column(Date)


class ViewProposalRow(Base):
    """A proposal tracked across articles: the summary it was first reported with."""

    __tablename__ = "view_proposals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    summary: Mapped[str] = mapped_column(Text)


class ViewProposalBackerRow(Base):
    """How often an actor backed or opposed a proposal in one batch, and when first and last: kept
    as reports arrive, so a proposal's backers are read without scanning all its reports."""

    __tablename__ = "view_proposal_backers"

    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("view_proposals.id", ondelete="CASCADE"), primary_key=True
    )
    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True)
    actor_key: Mapped[str] = mapped_column(String(256), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    first_date: Mapped[date | None] = mapped_column(Date)
    last_date: Mapped[date | None] = mapped_column(Date)
    reports: Mapped[int] = mapped_column(Integer)


class ViewProposalTermRow(Base):
    """A content word of a tracked proposal: how a new report finds its candidates."""

    __tablename__ = "view_proposal_terms"

    term: Mapped[str] = mapped_column(String(128), primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("view_proposals.id", ondelete="CASCADE"), primary_key=True
    )
