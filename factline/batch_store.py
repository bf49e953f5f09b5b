"""Batches in the database: creating them, claiming items under a lease, recording results once.

Every state change is one short transaction. An item is claimed with a lease (`lease_owner`,
`lease_until`) that its worker renews: the oldest queued one by factline's own workers (`claim`; an
item whose lease ran out, its worker dead, is returned to the queue), or the one a procrastinate job
names (`claim_item`; the job is deferred by `on_queued` in the transaction that queues the item).
Finishing an item writes its result line, adds its facts to the cross-article views
(`view_updates`) and marks it done in one transaction, and only if the worker still holds the
lease; the line's key is the item id, so no item is ever reported twice, whatever crashed where.
The same code runs on SQLite (one process) and on PostgreSQL (many worker processes on many
machines sharing one queue).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, delete, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from factline.archives import ArchiveEntry
from factline.cancellations import CancelledBatches
from factline.database import RESULTS_LOCK, reading_sessions
from factline.errors import ArchiveUnreadable, BatchConflict, BatchNotFound
from factline.tables import ARTICLE_ID_WIDTH, BatchRow, ItemRow, ResultRow, core_table, utcnow
from factline.upsert import insert_ignoring_duplicates
from factline.view_updates import ItemRef, record_article_views
from schemas import (
    ArchiveKind,
    Batch,
    BatchCounts,
    BatchResult,
    BatchStatus,
    Extraction,
    ItemStatus,
    ItemType,
    Problem,
    Usage,
)

QUEUED = "queued"
RUNNING = "running"
PENDING = (QUEUED, RUNNING)

Describe = Callable[[Exception], Problem]
# Told, inside the transaction that queues them, which items were queued: a queue engine defers their
# jobs there, so an item is never queued without its job, nor a job deferred for an item not stored.
OnQueued = Callable[[AsyncSession, Sequence[str]], Awaitable[None]]

_ITEMS = core_table(ItemRow).c
_NEXT_QUEUED = (
    select(_ITEMS.id)
    .where(_ITEMS.status == QUEUED, _ITEMS.available_at <= bindparam("now"))
    .order_by(_ITEMS.available_at, _ITEMS.position)
    .limit(1)
)
# Built once, in Core: building the statement and running it through the ORM's bulk-update machinery
# cost more CPU than SQLite's own work, on every claim of every item.
_CLAIMED = {
    "status": RUNNING,
    "claimed_at": bindparam("now"),
    "lease_until": bindparam("lease_until"),
    "lease_owner": bindparam("owner"),
    "attempts": _ITEMS.attempts + 1,
    "started_at": func.coalesce(_ITEMS.started_at, bindparam("now")),
}
_CLAIMED_ITEM = (_ITEMS.id, _ITEMS.batch_id, _ITEMS.position, _ITEMS.article_id, _ITEMS.request_json)
_CLAIM = (
    update(core_table(ItemRow))
    .where(
        _ITEMS.id == _NEXT_QUEUED.with_for_update(skip_locked=True).scalar_subquery(),
        _ITEMS.status == QUEUED,
    )
    .values(_CLAIMED)
    .returning(*_CLAIMED_ITEM)
)
# A queue engine's job names its item: queued, or held by an earlier run of the same job (the engine
# retries a job whose worker died, or that was stopped, under the same job key), or held by anyone whose
# lease ran out. A finished or cancelled item is not claimed: its job has nothing to do.
_CLAIM_ITEM = (
    update(core_table(ItemRow))
    .where(
        _ITEMS.id == bindparam("item_id"),
        or_(
            _ITEMS.status == QUEUED,
            and_(
                _ITEMS.status == RUNNING,
                or_(_ITEMS.lease_until < bindparam("now"), _ITEMS.lease_owner.endswith(bindparam("job_key"))),
            ),
        ),
    )
    .values(_CLAIMED)
    .returning(*_CLAIMED_ITEM)
)
_FINISH = (
    update(core_table(ItemRow))
    .where(
        _ITEMS.id == bindparam("item_id"), _ITEMS.status == RUNNING, _ITEMS.lease_owner == bindparam("owner")
    )
    .values(
        status=bindparam("status"),
        finished_at=bindparam("now"),
        lease_owner=None,
        lease_until=None,
        prompt_tokens=_ITEMS.prompt_tokens + bindparam("prompt_tokens"),
        completion_tokens=_ITEMS.completion_tokens + bindparam("completion_tokens"),
        llm_calls=_ITEMS.llm_calls + bindparam("llm_calls"),
        cached=bindparam("cached"),
    )
)


@dataclass(frozen=True)
class ClaimedItem:
    id: str
    batch_id: str
    position: int
    article_id: str | None
    request_json: str


def _line(item: ItemRow | ClaimedItem, status: ItemStatus, **outcome: Any) -> str:
    """An item's result line, without its cursor (the line's place in the stream, known once stored)."""
    result = BatchResult(
        cursor="0",
        item_id=item.id,
        position=item.position,
        article_id=item.article_id,
        status=status,
        **outcome,
    )
    # Only the absent outcome is left out: nested nulls stay, so the line matches the documented schema.
    absent = {name for name in ("extraction", "problem") if getattr(result, name) is None}
    return result.model_dump_json(exclude={"cursor", *absent})


def result_line(seq: int, line_json: str) -> str:
    """The stored line with its cursor first: one NDJSON line of the results stream."""
    return json.dumps({"cursor": str(seq), **json.loads(line_json)}, ensure_ascii=False)


async def serialise_result_lines(session: AsyncSession, batch_id: str) -> None:
    """Make result lines of a batch get their cursors in commit order; call before writing any.

    A line's cursor is its `seq`, drawn from a sequence when the row is inserted, and a client resumes
    with `seq > after`. With several writers, a transaction can draw seq 10, another draw 11 and
    commit first; a reader that saw 11 and resumes after it would never see 10. Holding a lock per
    batch (released at commit, after the commit is visible) from before the insert until the commit
    makes every line drawn later commit later. Only lines of the same batch share a cursor space, so
    other batches do not wait. SQLite needs nothing: `BEGIN IMMEDIATE` admits one writer at a time.
    Taken before the item's row is touched, so that every writer takes the two locks in one order.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:key, hashtext(:batch_id))"),
            {"key": RESULTS_LOCK, "batch_id": batch_id},
        )


async def _nothing_to_tell(session: AsyncSession, item_ids: Sequence[str]) -> None:
    """factline's own queue is the items table: a queued row is all a worker needs."""


class BatchStore:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        lease_seconds: float,
        on_queued: OnQueued = _nothing_to_tell,
    ) -> None:
        self.sessions = sessions
        self.readers = reading_sessions(sessions)
        self.cancelled = CancelledBatches()
        self.lease = timedelta(seconds=lease_seconds)
        self.on_queued = on_queued

    # --- submission ---------------------------------------------------------------------------

    async def create(
        self,
        kind: ArchiveKind,
        filename: str | None,
        types: list[ItemType] | None,
        chunks: AsyncIterator[Sequence[ArchiveEntry]],
        describe: Describe,
    ) -> str:
        """Store a batch and all its items in one transaction: a failure part-way leaves nothing."""
        batch_id = f"bat_{uuid.uuid4().hex}"
        now = utcnow()
        total = 0
        async with self.sessions.begin() as session:
            session.add(
                BatchRow(
                    id=batch_id,
                    created_at=now,
                    archive_kind=str(kind),
                    filename=filename[-512:] if filename else None,  # PostgreSQL enforces the width
                    types=",".join(types) if types else None,
                    total=0,
                )
            )
            await session.flush()
            async for chunk in chunks:
                rows = [self._item(batch_id, entry, now) for entry in chunk]
                session.add_all(rows)
                await session.flush()
                await self.on_queued(session, [row.id for row in rows if row.status == QUEUED])
                failed = [
                    {
                        "item_id": row.id,
                        "batch_id": batch_id,
                        "status": ItemStatus.FAILED.value,
                        "line_json": _line(row, ItemStatus.FAILED, problem=describe(entry.error)),
                    }
                    for row, entry in zip(rows, chunk, strict=True)
                    if entry.error is not None
                ]
                if failed:
                    await insert_ignoring_duplicates(session, ResultRow, failed, ["item_id"])
                total += len(rows)
            if total == 0:
                raise ArchiveUnreadable("The archive holds no articles.")
            await session.execute(update(BatchRow).where(BatchRow.id == batch_id).values(total=total))
        return batch_id

    @staticmethod
    def _item(batch_id: str, entry: ArchiveEntry, now: datetime) -> ItemRow:
        ok = entry.request is not None
        return ItemRow(
            id=f"itm_{uuid.uuid4().hex}",
            batch_id=batch_id,
            position=entry.position,
            # A member's path can be far longer than any valid id (which then fails as the item's
            # error); cut to the column's width, which PostgreSQL enforces, so the batch is still stored.
            article_id=entry.article_id[:ARTICLE_ID_WIDTH] if entry.article_id else None,
            request_json=entry.request.model_dump_json() if entry.request is not None else None,
            status=QUEUED if ok else ItemStatus.FAILED.value,
            attempts=0,
            available_at=now,
            finished_at=None if ok else now,
            prompt_tokens=0,
            completion_tokens=0,
            llm_calls=0,
            cached=False,
        )

    # --- workers ------------------------------------------------------------------------------

    async def claim(self, owner: str) -> ClaimedItem | None:
        """Take the oldest queued item under a lease (`SKIP LOCKED`: PostgreSQL workers share the queue)."""
        now = utcnow()
        async with self.sessions.begin() as session:
            row = (
                await session.execute(_CLAIM, {"now": now, "lease_until": now + self.lease, "owner": owner})
            ).first()
        return _claimed(row)

    async def claim_item(self, item_id: str, owner: str, job_key: str) -> ClaimedItem | None:
        """Take this item under a lease for the job `job_key` (the end of `owner`); None when it is
        done, cancelled, or held by another job that is alive."""
        now = utcnow()
        params = {
            "item_id": item_id,
            "job_key": job_key,
            "owner": owner,
            "now": now,
            "lease_until": now + self.lease,
        }
        async with self.sessions.begin() as session:
            row = (await session.execute(_CLAIM_ITEM, params)).first()
        return _claimed(row)

    async def has_claimable(self) -> bool:
        """Whether `claim` would find an item, by a read: an idle worker's look takes no write lock."""
        async with self.readers() as session:
            return (await session.scalar(_NEXT_QUEUED, {"now": utcnow()})) is not None

    def _held(self, item_id: str, owner: str) -> Any:
        return and_(ItemRow.id == item_id, ItemRow.status == RUNNING, ItemRow.lease_owner == owner)

    async def renew(self, item_id: str, owner: str) -> bool:
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(ItemRow).where(self._held(item_id, owner)).values(lease_until=utcnow() + self.lease)
            )
        return bool(getattr(result, "rowcount", 0))

    async def release(self, item_id: str, owner: str, delay_seconds: float) -> None:
        """Give an item back to the queue, not before `delay_seconds` (a rate limit is not a failure)."""
        now = utcnow()
        async with self.sessions.begin() as session:
            await session.execute(
                update(ItemRow)
                .where(self._held(item_id, owner))
                .values(
                    status=QUEUED,
                    available_at=now + timedelta(seconds=delay_seconds),
                    lease_owner=None,
                    lease_until=None,
                )
            )

    async def release_all(self, owners: Sequence[str]) -> int:
        """Give back every item these workers hold (a clean shutdown)."""
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(ItemRow)
                .where(ItemRow.status == RUNNING, ItemRow.lease_owner.in_(owners))
                .values(status=QUEUED, lease_owner=None, lease_until=None)
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def requeue_expired(self) -> int:
        """Return items whose worker stopped renewing its lease (it crashed or was killed)."""
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(ItemRow)
                .where(ItemRow.status == RUNNING, ItemRow.lease_until < utcnow())
                .values(status=QUEUED, lease_owner=None, lease_until=None)
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def finish(
        self,
        item: ClaimedItem,
        owner: str,
        *,
        extraction: Extraction | None = None,
        problem: Problem | None = None,
    ) -> bool:
        """Record the item's outcome, once: False when the lease was lost and the outcome discarded."""
        status = ItemStatus.SUCCEEDED if extraction is not None else ItemStatus.FAILED
        usage = extraction.usage if extraction is not None else (problem_usage(problem) if problem else None)
        async with self.sessions.begin() as session:
            await serialise_result_lines(session, item.batch_id)
            marked = await session.execute(
                _FINISH,
                {
                    "item_id": item.id,
                    "owner": owner,
                    "status": status.value,
                    "now": utcnow(),
                    "prompt_tokens": usage.prompt_tokens if usage else 0,
                    "completion_tokens": usage.completion_tokens if usage else 0,
                    "llm_calls": usage.llm_calls if usage else 0,
                    "cached": bool(extraction is not None and extraction.cached),
                },
            )
            if not getattr(marked, "rowcount", 0):
                return False
            line = _line(item, status, extraction=extraction, problem=problem)
            await insert_ignoring_duplicates(
                session,
                ResultRow,
                {"item_id": item.id, "batch_id": item.batch_id, "status": status.value, "line_json": line},
                ["item_id"],
            )
            if extraction is not None:
                await record_article_views(
                    session, ItemRef(item.batch_id, item.id, item.article_id), extraction
                )
        return True

    # --- client operations --------------------------------------------------------------------

    async def _batch_row(self, session: AsyncSession, batch_id: str) -> BatchRow:
        row = await session.get(BatchRow, batch_id)
        if row is None:
            raise BatchNotFound(batch_id)
        return row

    async def cancel(self, batch_id: str) -> None:
        """Stop a batch: its unfinished items end as cancelled (a running one's outcome is discarded)."""
        now = utcnow()
        async with self.sessions.begin() as session:
            await serialise_result_lines(session, batch_id)
            batch = await self._batch_row(session, batch_id)
            if batch.cancelled_at is not None:
                return
            items = (
                await session.scalars(
                    select(ItemRow).where(ItemRow.batch_id == batch_id, ItemRow.status.in_(PENDING))
                )
            ).all()
            if not items:
                raise BatchConflict(f"Batch “{batch_id}” has finished; there is nothing left to cancel.")
            batch.cancelled_at = now
            await session.execute(
                update(ItemRow)
                .where(ItemRow.batch_id == batch_id, ItemRow.status.in_(PENDING))
                .values(
                    status=ItemStatus.CANCELLED.value, finished_at=now, lease_owner=None, lease_until=None
                )
            )
            await insert_ignoring_duplicates(
                session,
                ResultRow,
                [
                    {
                        "item_id": item.id,
                        "batch_id": batch_id,
                        "status": ItemStatus.CANCELLED.value,
                        "line_json": _line(item, ItemStatus.CANCELLED),
                    }
                    for item in items
                ],
                ["item_id"],
            )
            await self.cancelled.announce(session, batch_id)
        self.cancelled.add(batch_id)

    async def retry(self, batch_id: str) -> int:
        """Queue failed items again; their old result lines go, new ones will follow later in the stream."""
        async with self.sessions.begin() as session:
            batch = await self._batch_row(session, batch_id)
            if batch.cancelled_at is not None:
                raise BatchConflict(f"Batch “{batch_id}” was cancelled; submit it again instead.")
            retryable = and_(
                ItemRow.batch_id == batch_id,
                ItemRow.status == ItemStatus.FAILED.value,
                ItemRow.request_json.is_not(None),
            )
            ids = (await session.scalars(select(ItemRow.id).where(retryable))).all()
            if not ids:
                return 0
            await session.execute(delete(ResultRow).where(ResultRow.item_id.in_(ids)))
            await session.execute(
                update(ItemRow)
                .where(ItemRow.id.in_(ids))
                .values(status=QUEUED, available_at=utcnow(), finished_at=None)
            )
            await self.on_queued(session, ids)
        return len(ids)

    async def results(self, batch_id: str, after: int, limit: int = 500) -> list[tuple[int, str]]:
        async with self.readers() as session:
            await self._batch_row(session, batch_id)
            rows = await session.execute(
                select(ResultRow.seq, ResultRow.line_json)
                .where(ResultRow.batch_id == batch_id, ResultRow.seq > after)
                .order_by(ResultRow.seq)
                .limit(limit)
            )
            return [(seq, line) for seq, line in rows.all()]

    async def item(self, batch_id: str, item_id: str) -> tuple[str | None, str, str | None] | None:
        """An item's request (null for a line that was no article), status and result line, if any."""
        async with self.readers() as session:
            await self._batch_row(session, batch_id)
            row = (
                await session.execute(
                    select(ItemRow.request_json, ItemRow.status, ResultRow.line_json)
                    .outerjoin(ResultRow, ResultRow.item_id == ItemRow.id)
                    .where(ItemRow.batch_id == batch_id, ItemRow.id == item_id)
                )
            ).one_or_none()
            return None if row is None else (row[0], row[1], row[2])

    async def queue_depth(self) -> tuple[int, int]:
        """Items queued and running, across all batches."""
        async with self.readers() as session:
            rows = await session.execute(
                select(ItemRow.status, func.count())
                .where(ItemRow.status.in_(PENDING))
                .group_by(ItemRow.status)
            )
            counts = {status: int(count) for status, count in rows.all()}
        return counts.get(QUEUED, 0), counts.get(RUNNING, 0)

    async def get(self, batch_id: str) -> Batch:
        async with self.readers() as session:
            return await self._summary(session, await self._batch_row(session, batch_id))

    async def page(self, after: str | None, limit: int) -> tuple[list[Batch], str | None]:
        """Batches newest first; `after` is the last id of the previous page."""
        async with self.readers() as session:
            query = select(BatchRow).order_by(BatchRow.created_at.desc(), BatchRow.id.desc())
            if after is not None:
                anchor = await self._batch_row(session, after)
                query = query.where(
                    or_(
                        BatchRow.created_at < anchor.created_at,
                        and_(BatchRow.created_at == anchor.created_at, BatchRow.id < anchor.id),
                    )
                )
            rows = (await session.scalars(query.limit(limit + 1))).all()
            batches = [await self._summary(session, row) for row in rows[:limit]]
        return batches, (rows[limit - 1].id if len(rows) > limit else None)

    async def _summary(self, session: AsyncSession, batch: BatchRow) -> Batch:
        grouped = await session.execute(
            select(ItemRow.status, func.count()).where(ItemRow.batch_id == batch.id).group_by(ItemRow.status)
        )
        by_status: dict[str, int] = {status: int(count) for status, count in grouped.all()}
        totals = (
            await session.execute(
                select(
                    func.coalesce(func.sum(ItemRow.prompt_tokens), 0),
                    func.coalesce(func.sum(ItemRow.completion_tokens), 0),
                    func.coalesce(func.sum(ItemRow.llm_calls), 0),
                    func.coalesce(func.sum(case((ItemRow.cached, 1), else_=0)), 0),
                    func.min(ItemRow.started_at),
                    func.max(ItemRow.finished_at),
                    func.count(ItemRow.started_at).filter(ItemRow.finished_at.is_not(None)),
                ).where(ItemRow.batch_id == batch.id)
            )
        ).one()
        prompt_tokens, completion_tokens, llm_calls, cached, started, last_finished, worked = totals
        counts = BatchCounts(
            total=batch.total,
            succeeded=by_status.get(ItemStatus.SUCCEEDED.value, 0),
            failed=by_status.get(ItemStatus.FAILED.value, 0),
            cancelled=by_status.get(ItemStatus.CANCELLED.value, 0),
            pending=by_status.get(QUEUED, 0) + by_status.get(RUNNING, 0),
            running=by_status.get(RUNNING, 0),
            cached=int(cached),
        )
        started = _aware(started)
        finished = None
        if counts.pending == 0:
            finished = batch.cancelled_at or _aware(last_finished) or batch.created_at
        if batch.cancelled_at is not None:
            status = BatchStatus.CANCELLED
        elif counts.pending:
            status = BatchStatus.RUNNING if started is not None else BatchStatus.QUEUED
        else:
            status = BatchStatus.COMPLETED if counts.succeeded or not counts.failed else BatchStatus.FAILED
        elapsed = ((finished or utcnow()) - started).total_seconds() if started is not None else None
        left: float | None = None
        if counts.pending == 0:
            left = 0.0
        elif elapsed is not None and worked:
            left = round(counts.pending * elapsed / int(worked), 1)
        return Batch(
            id=batch.id,
            status=status,
            archive=ArchiveKind(batch.archive_kind),
            filename=batch.filename,
            types=[ItemType(t) for t in batch.types.split(",")] if batch.types else None,
            counts=counts,
            usage=Usage(
                prompt_tokens=int(prompt_tokens),
                completion_tokens=int(completion_tokens),
                total_tokens=int(prompt_tokens) + int(completion_tokens),
                llm_calls=int(llm_calls),
            ),
            created_at=batch.created_at,
            started_at=started,
            finished_at=finished,
            elapsed_seconds=round(max(elapsed, 0.0), 3) if elapsed is not None else None,
            estimated_seconds_left=left,
            results_url=f"/v1/batches/{batch.id}/results",
            events_url=f"/v1/batches/{batch.id}/events",
        )


def _claimed(row: Any) -> ClaimedItem | None:
    if row is None:
        return None
    return ClaimedItem(row.id, row.batch_id, row.position, row.article_id, row.request_json or "{}")


def _aware(value: datetime | None) -> datetime | None:
    """Aggregates bypass the column type; give them back their UTC zone."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def problem_usage(problem: Problem) -> Usage | None:
    """What the failed attempts cost, when the problem says (LLM failures do)."""
    raw = (problem.model_extra or {}).get("usage")
    return Usage.model_validate(raw) if isinstance(raw, dict) else None
