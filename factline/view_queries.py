"""Reading the cross-article views of a set of batches: a page costs the facts on it, not the archive.

Actors, proposals and positions page by key over the rows `view_updates` keeps; the timeline reads
events in date order and merges reports of the same event as it goes (`event_matching`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, TypeVarTuple

from sqlalchemy import Row, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from factline.database import reading_sessions
from factline.errors import BatchNotFound
from factline.event_matching import LOOKBACK, EventCluster, EventClusterer, EventFact
from factline.grounding import fold
from factline.stance_history import StanceFact, stance_histories
from factline.tables import (
    BatchRow,
    ViewActorItemRow,
    ViewActorNameRow,
    ViewActorRow,
    ViewFactActorRow,
    ViewFactRow,
    ViewProposalBackerRow,
    ViewProposalRow,
)
from schemas import Span
from schemas.views import (
    ActorName,
    ActorPage,
    ActorPosition,
    ActorPositions,
    ActorProposalRole,
    ActorQuote,
    ActorRef,
    CrossActor,
    EventSource,
    PositionPage,
    ProposalBacking,
    ProposalPage,
    ProposalReport,
    SourceRef,
    StanceEntry,
    TimelineEvent,
    TimelinePage,
    TopicStances,
    TrackedProposal,
)

CHUNK = 500
_STATEMENTS = ("quote", "position", "proposal")
T = TypeVar("T")
K = TypeVar("K")


class BadCursor(ValueError):
    """An `after` that no page of this view gave out."""


@dataclass(frozen=True)
class ViewFilter:
    """What a view is restricted to: batches, an actor (part of its key), a date range, topic text."""

    batch_ids: tuple[str, ...]
    actor: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    topic: str | None = None

    @property
    def filters_facts(self) -> bool:
        """Whether only some of the facts count: a date range or topic text."""
        return bool(self.since or self.until or self.topic)

    @property
    def actor_text(self) -> str | None:
        return fold(self.actor).strip() if self.actor else None

    def conditions(self, date: Any) -> list[Any]:
        """The date and topic filters as SQL on `view_facts` (`date`: the date column to compare)."""
        found = [date >= self.since] if self.since else []
        found += [date <= self.until] if self.until else []
        if self.topic:
            found.append(ViewFactRow.search_text.contains(fold(self.topic), autoescape=True))
        return found

    def on_dates(self, start: dt.date | None, end: dt.date | None = None) -> bool:
        if self.since is None and self.until is None:
            return True
        if start is None:
            return False
        return (self.since is None or (end or start) >= self.since) and (
            self.until is None or start <= self.until
        )

    def on_topic(self, *texts: str | None) -> bool:
        return self.topic is None or any(fold(self.topic) in fold(text) for text in texts if text)

    def names_actor(self, keys: Sequence[str]) -> bool:
        wanted = self.actor_text
        return wanted is None or any(wanted in key for key in keys)


@dataclass(frozen=True)
class _Fact:
    id: int
    batch_id: str
    item_id: str
    kind: str
    date: dt.date | None
    proposal_id: int | None
    payload: dict[str, Any]

    @classmethod
    def of(cls, row: ViewFactRow) -> _Fact:
        return cls(
            row.id,
            row.batch_id,
            row.item_id,
            row.kind,
            row.date,
            row.proposal_id,
            json.loads(row.payload_json),
        )

    @property
    def source(self) -> SourceRef:
        published = self.payload.get("published_at")
        return SourceRef(
            batch_id=self.batch_id,
            item_id=self.item_id,
            article_id=self.payload.get("article_id"),
            published_at=dt.date.fromisoformat(published) if published else None,
            evidence=[Span.model_validate(span) for span in self.payload["evidence"]],
        )

    @property
    def texts(self) -> list[str]:
        fields = ("text", "topic", "summary")
        return [str(self.payload[f]) for f in fields if self.payload.get(f)] + [
            span["text"] for span in self.payload["evidence"]
        ]


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


async def _pages(
    keys: Callable[[Any, int], Awaitable[Sequence[K]]],
    build: Callable[[Any], Awaitable[T | None]],
    after: K | None,
    limit: int,
) -> tuple[list[T], K | None]:
    """Build items from keys in order until `limit` are kept (`build` answers None to skip one)."""
    page: list[T] = []
    cursor = after
    while True:
        chunk = await keys(cursor, CHUNK)
        for key in chunk:
            if (item := await build(key)) is not None:
                if len(page) == limit:
                    return page, cursor
                page.append(item)
            cursor = key
        if len(chunk) < CHUNK:
            return page, None


Columns = TypeVarTuple("Columns")


async def _in_date_order(
    session: AsyncSession,
    query: Select[*Columns],
    date: Any,
    key: Any,
    limit: int,
    newest: bool = False,
) -> list[Row[*Columns]]:
    """The query's first rows by `date` then `key`, oldest (or newest) first, undated ones last.
    Dated and undated rows are asked for apart: one sort key `date IS NULL` would make the database
    sort every matching row instead of reading an index in date order."""
    by_date = (date.desc(), key.desc()) if newest else (date, key)
    dated = query.where(date.is_not(None)).order_by(*by_date).limit(limit)
    found = list((await session.execute(dated)).all())
    if len(found) < limit:
        undated = query.where(date.is_(None)).order_by(key.desc() if newest else key)
        found += (await session.execute(undated.limit(limit - len(found)))).all()
    return found


class CrossArticleViews:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.readers = reading_sessions(sessions)

    async def check_batches(self, batch_ids: Sequence[str]) -> None:
        async with self.readers() as session:
            found = set((await session.scalars(select(BatchRow.id).where(BatchRow.id.in_(batch_ids)))).all())
        for batch_id in batch_ids:
            if batch_id not in found:
                raise BatchNotFound(batch_id)

    # --- actors -------------------------------------------------------------------------------

    async def _actor_keys(
        self, session: AsyncSession, table: Any, scope: ViewFilter, after: str | None, limit: int, *where: Any
    ) -> Sequence[str]:
        query: Select[Any] = (
            select(table.actor_key).where(table.batch_id.in_(scope.batch_ids), *where).distinct()
        )
        if after is not None:
            query = query.where(table.actor_key > after)
        if scope.actor_text:
            query = query.where(table.actor_key.contains(scope.actor_text, autoescape=True))
        return [
            str(key) for key in (await session.scalars(query.order_by(table.actor_key).limit(limit))).all()
        ]

    async def _actor_facts(
        self, session: AsyncSession, key: str, scope: ViewFilter, kind: str, most: int
    ) -> tuple[list[tuple[_Fact, str]], int]:
        """The actor's first `most` facts of one kind in date order (undated last), and how many match."""
        where = (
            ViewFactActorRow.actor_key == key,
            ViewFactActorRow.kind == kind,
            ViewFactActorRow.batch_id.in_(scope.batch_ids),
            *scope.conditions(ViewFactActorRow.date),
        )
        linked = select(ViewFactActorRow.fact_id)
        if scope.topic:  # the facts' text; without a topic the count reads the actor's index alone
            linked = linked.join(ViewFactRow, ViewFactRow.id == ViewFactActorRow.fact_id)
        count = await session.scalar(select(func.count()).select_from(linked.where(*where).subquery()))
        facts = (
            select(ViewFactRow, ViewFactActorRow.role)
            .join(ViewFactActorRow, ViewFactActorRow.fact_id == ViewFactRow.id)
            .where(*where)
        )
        rows = await _in_date_order(session, facts, ViewFactActorRow.date, ViewFactActorRow.fact_id, most)
        return [(_Fact.of(row), role) for row, role in rows], int(count or 0)

    async def actors(self, scope: ViewFilter, after: str | None, limit: int, facts: int = 50) -> ActorPage:
        """A page of actors, each with its first `facts` quotes, positions and proposals, and their counts."""
        async with self.readers() as session:

            async def keys(cursor: str | None, size: int) -> Sequence[str]:
                return await self._actor_keys(session, ViewActorItemRow, scope, cursor, size)

            async def build(key: str) -> CrossActor | None:
                return await self._actor(session, key, scope, facts)

            actors, next_cursor = await _pages(keys, build, after, limit)
        return ActorPage(actors=actors, next_cursor=next_cursor)

    async def _actor(
        self, session: AsyncSession, key: str, scope: ViewFilter, most: int
    ) -> CrossActor | None:
        actor = await session.get(ViewActorRow, key)
        if actor is None:
            return None
        found = {kind: await self._actor_facts(session, key, scope, kind, most) for kind in _STATEMENTS}
        if scope.filters_facts and not any(count for _, count in found.values()):
            return None
        names = (
            await session.scalars(
                select(ViewActorNameRow)
                .where(ViewActorNameRow.actor_key == key)
                .order_by(ViewActorNameRow.id)
            )
        ).all()
        articles = await session.scalar(
            select(func.count()).where(
                ViewActorItemRow.actor_key == key, ViewActorItemRow.batch_id.in_(scope.batch_ids)
            )
        )
        return CrossActor(
            key=key,
            name=actor.name,
            kind=actor.kind,
            names=[
                ActorName(name=n.name, kind=n.kind, article_id=n.article_id, reason=n.reason) for n in names
            ],
            article_count=int(articles or 0),
            quote_count=found["quote"][1],
            position_count=found["position"][1],
            proposal_count=found["proposal"][1],
            quotes=[
                ActorQuote(
                    date=fact.date,
                    text=fact.payload["text"],
                    kind=fact.payload["quote_kind"],
                    topic=fact.payload.get("topic"),
                    source=fact.source,
                )
                for fact, _ in found["quote"][0]
            ],
            positions=[
                ActorPosition(
                    date=fact.date,
                    topic=fact.payload["topic"],
                    stance=fact.payload["stance"],
                    summary=fact.payload["summary"],
                    source=fact.source,
                )
                for fact, _ in found["position"][0]
            ],
            proposals=[
                ActorProposalRole(
                    proposal_id=f"prp_{fact.proposal_id}",
                    role=role,
                    date=fact.date,
                    summary=fact.payload["summary"],
                    source=fact.source,
                )
                for fact, role in found["proposal"][0]
            ],
        )

    async def _refs(self, session: AsyncSession, keys: set[str]) -> dict[str, ActorRef]:
        rows = (await session.scalars(select(ViewActorRow).where(ViewActorRow.key.in_(keys)))).all()
        return {row.key: ActorRef(key=row.key, name=row.name) for row in rows}

    async def _links(
        self, session: AsyncSession, fact_ids: list[int], roles: Sequence[str]
    ) -> dict[int, list[tuple[str, str]]]:
        """The actors of these facts (read, not copied: a merge of two actors re-points the links)."""
        found: dict[int, list[tuple[str, str]]] = {}
        if fact_ids:
            rows = await session.execute(
                select(ViewFactActorRow.fact_id, ViewFactActorRow.actor_key, ViewFactActorRow.role).where(
                    ViewFactActorRow.fact_id.in_(fact_ids), ViewFactActorRow.role.in_(roles)
                )
            )
            for fact_id, key, role in rows.all():
                found.setdefault(fact_id, []).append((key, role))
        return found

    # --- timeline -----------------------------------------------------------------------------

    async def _events(
        self, session: AsyncSession, scope: ViewFilter, start: dt.date | None, dated: bool, after_id: int
    ) -> AsyncIterator[EventFact]:
        """Events in (place, id) order from `start` (`dated`: those with a date or a publication day),
        or in id order after `after_id` (those with neither)."""
        position: tuple[dt.date, int] | None = None
        last_id = after_id
        while True:
            query = select(ViewFactRow).where(
                ViewFactRow.batch_id.in_(scope.batch_ids), ViewFactRow.kind == "event"
            )
            if dated:
                query = query.where(ViewFactRow.date.is_not(None))
                if position is not None:
                    query = query.where(
                        (ViewFactRow.date > position[0])
                        | ((ViewFactRow.date == position[0]) & (ViewFactRow.id > position[1]))
                    )
                elif start is not None:
                    query = query.where(ViewFactRow.date >= start)
                query = query.order_by(ViewFactRow.date, ViewFactRow.id)
            else:
                query = query.where(ViewFactRow.date.is_(None), ViewFactRow.id > last_id).order_by(
                    ViewFactRow.id
                )
            rows = (await session.scalars(query.limit(CHUNK))).all()
            links = await self._links(session, [row.id for row in rows], ("participant",))
            for row in rows:
                fact = _Fact.of(row)
                last_id = row.id
                if row.date is not None:
                    position = (row.date, row.id)
                yield EventFact(
                    fact_id=row.id,
                    item_id=row.item_id,
                    article_id=fact.payload.get("article_id"),
                    date=_date(fact.payload.get("date")),
                    date_end=_date(fact.payload.get("date_end")),
                    location=fact.payload.get("location"),
                    participants=frozenset(key for key, _ in links.get(row.id, [])),
                    text=" ".join(fact.texts),
                    date_text=fact.payload.get("date_text"),
                    anchor=row.date,
                    payload={"fact": fact},
                )
            if len(rows) < CHUNK:
                return

    def _wanted(self, cluster: EventCluster, scope: ViewFilter) -> bool:
        start, end = cluster.agreed_range()
        return (
            scope.on_dates(start, end)
            and scope.names_actor([key for source in cluster.sources for key in source.participants])
            and scope.on_topic(*[source.text for source in cluster.sources])
        )

    async def timeline(self, scope: ViewFilter, after: str | None, limit: int) -> TimelinePage:
        cursor_date, cursor_id = _timeline_cursor(after)
        clusters: list[EventCluster] = []
        async with self.readers() as session:
            undated_only = after is not None and cursor_date is None
            if not undated_only:
                clusters = await self._dated_clusters(session, scope, cursor_date, cursor_id, limit)
            if len(clusters) <= limit and scope.since is None and scope.until is None:
                first_id = cursor_id - 1 if undated_only else 0
                async for event in self._events(session, scope, None, False, first_id):
                    if self._wanted(single := EventCluster([event]), scope):
                        clusters.append(single)
                    if len(clusters) > limit:
                        break
            page = clusters[:limit]
            refs = await self._refs(session, {key for c in page for s in c.sources for key in s.participants})
        next_cursor = clusters[limit].cursor if len(clusters) > limit else None
        return TimelinePage(events=[_timeline_event(c, refs) for c in page], next_cursor=next_cursor)

    async def _dated_clusters(
        self,
        session: AsyncSession,
        scope: ViewFilter,
        cursor_date: dt.date | None,
        cursor_id: int,
        limit: int,
    ) -> list[EventCluster]:
        """Up to `limit + 1` clusters of dated events from the cursor on; reading starts `LOOKBACK`
        earlier, so that a cluster begun before the page is rebuilt whole and left out."""
        anchor = cursor_date or scope.since
        clusterer = EventClusterer()
        clusters: list[EventCluster] = []
        async for event in self._events(session, scope, anchor - LOOKBACK if anchor else None, True, 0):
            if scope.until is not None and event.place and event.place > scope.until + LOOKBACK:
                break
            clusters += self._after(clusterer.add(event), cursor_date, cursor_id, scope)
            if len(clusters) > limit:
                return clusters
        return clusters + self._after(clusterer.flush(), cursor_date, cursor_id, scope)

    def _after(
        self, finished: list[EventCluster], cursor_date: dt.date | None, cursor_id: int, scope: ViewFilter
    ) -> list[EventCluster]:
        """Clusters from the cursor on (those before it were on earlier pages) that pass the filters."""
        position = (cursor_date or dt.date.min, cursor_id)
        return [
            cluster
            for cluster in finished
            if (cluster.head.place or dt.date.max, cluster.head.fact_id) >= position
            and self._wanted(cluster, scope)
        ]

    # --- proposals ----------------------------------------------------------------------------

    async def proposals(
        self, scope: ViewFilter, after: str | None, limit: int, facts: int = 50
    ) -> ProposalPage:
        """A page of tracked proposals, each with its backers and its first `facts` reports."""
        async with self.readers() as session:

            async def keys(cursor: int | None, size: int) -> Sequence[int]:
                # Proposals in id order, each kept at its first report in scope: one index probe per
                # proposal, where collecting the distinct ids of all reports read them all.
                reported = select(ViewFactRow.id).where(
                    ViewFactRow.proposal_id == ViewProposalRow.id,
                    ViewFactRow.batch_id.in_(scope.batch_ids),
                    *scope.conditions(ViewFactRow.date),
                )
                if scope.actor_text:
                    reported = reported.join(
                        ViewFactActorRow, ViewFactActorRow.fact_id == ViewFactRow.id
                    ).where(ViewFactActorRow.actor_key.contains(scope.actor_text, autoescape=True))
                query = (
                    select(ViewProposalRow.id)
                    .where(ViewProposalRow.id > (cursor or 0), reported.exists())
                    .order_by(ViewProposalRow.id)
                    .limit(size)
                )
                return (await session.scalars(query)).all()

            async def build(key: int) -> TrackedProposal | None:
                return await self._proposal(session, key, scope, facts)

            proposals, next_cursor = await _pages(keys, build, _proposal_cursor(after), limit)
        return ProposalPage(
            proposals=proposals, next_cursor=f"prp_{next_cursor}" if next_cursor is not None else None
        )

    async def _proposal(
        self, session: AsyncSession, proposal_id: int, scope: ViewFilter, most: int
    ) -> TrackedProposal | None:
        tracked = await session.get(ViewProposalRow, proposal_id)
        where = (
            ViewFactRow.proposal_id == proposal_id,
            ViewFactRow.batch_id.in_(scope.batch_ids),
            *scope.conditions(ViewFactRow.date),
        )
        count = int(await session.scalar(select(func.count()).select_from(ViewFactRow).where(*where)) or 0)
        if tracked is None or not count:
            return None
        reports_in_scope = select(ViewFactRow).where(*where)
        in_order = (reports_in_scope, ViewFactRow.date, ViewFactRow.id)
        reports = [_Fact.of(row) for (row,) in await _in_date_order(session, *in_order, most)]
        latest = next((row for (row,) in await _in_date_order(session, *in_order, 1, newest=True)), None)
        backers = await self._backers(session, proposal_id, scope, where)
        refs = await self._refs(session, {row[0] for row in backers})

        def backing(role: str) -> list[ProposalBacking]:
            return [
                ProposalBacking(actor=refs[key], first_date=since, last_date=until, reports=reports_count)
                for key, backer_role, since, until, reports_count in backers
                if backer_role == role and key in refs
            ]

        return TrackedProposal(
            id=f"prp_{proposal_id}",
            summary=tracked.summary,
            status=json.loads(latest.payload_json)["status"] if latest else "unknown",
            proposers=backing("proposer"),
            supporters=backing("supporter"),
            opponents=backing("opponent"),
            report_count=count,
            history=[
                ProposalReport(
                    date=fact.date,
                    summary=fact.payload["summary"],
                    status=fact.payload["status"],
                    match=fact.payload["match"],
                    source=fact.source,
                )
                for fact in reports
            ],
        )

    async def _backers(
        self, session: AsyncSession, proposal_id: int, scope: ViewFilter, where: tuple[Any, ...]
    ) -> Sequence[Row[str, str, dt.date | None, dt.date | None, int]]:
        """Who proposed, supported or opposed the proposal: first and last date, how many reports. From
        the tallies; with a date or topic filter, from the reports that pass it."""
        if scope.filters_facts:
            first = func.min(ViewFactActorRow.date)
            query = (
                select(
                    ViewFactActorRow.actor_key,
                    ViewFactActorRow.role,
                    first,
                    func.max(ViewFactActorRow.date),
                    func.count(),
                )
                .join(ViewFactRow, ViewFactRow.id == ViewFactActorRow.fact_id)
                .where(*where)
                .group_by(ViewFactActorRow.actor_key, ViewFactActorRow.role)
                .order_by(first, ViewFactActorRow.actor_key)
            )
        else:
            tally = ViewProposalBackerRow
            first = func.min(tally.first_date)
            query = (
                select(tally.actor_key, tally.role, first, func.max(tally.last_date), func.sum(tally.reports))
                .where(tally.proposal_id == proposal_id, tally.batch_id.in_(scope.batch_ids))
                .group_by(tally.actor_key, tally.role)
                .order_by(first, tally.actor_key)
            )
        return (await session.execute(query)).all()

    # --- positions ----------------------------------------------------------------------------

    async def positions(
        self, scope: ViewFilter, after: str | None, limit: int, facts: int = 50
    ) -> PositionPage:
        """A page of actors, each with its first `facts` positions grouped by topic."""
        async with self.readers() as session:

            async def keys(cursor: str | None, size: int) -> Sequence[str]:
                where = (ViewFactActorRow.kind == "position", ViewFactActorRow.role == "holder")
                return await self._actor_keys(session, ViewFactActorRow, scope, cursor, size, *where)

            async def build(key: str) -> ActorPositions | None:
                found, count = await self._actor_facts(session, key, scope, "position", facts)
                if not found:
                    return None
                refs = await self._refs(session, {key})
                histories = stance_histories(
                    [
                        StanceFact(f.id, f.date, f.payload["topic"], f.payload["stance"], {"fact": f})
                        for f, _ in found
                    ]
                )
                return ActorPositions(
                    actor=refs.get(key, ActorRef(key=key, name=key)),
                    position_count=count,
                    topics=[
                        TopicStances(
                            topic=history.topic,
                            changed=any(history.changed),
                            stances=[
                                _stance_entry(entry.payload["fact"], changed)  # type: ignore[arg-type]
                                for entry, changed in zip(history.entries, history.changed, strict=True)
                            ],
                        )
                        for history in histories
                    ],
                )

            actors, next_cursor = await _pages(keys, build, after, limit)
        return PositionPage(actors=actors, next_cursor=next_cursor)


def _stance_entry(fact: _Fact, changed: bool) -> StanceEntry:
    return StanceEntry(
        date=fact.date,
        stance=fact.payload["stance"],
        topic=fact.payload["topic"],
        summary=fact.payload["summary"],
        changed=changed,
        source=fact.source,
    )


def _timeline_event(cluster: EventCluster, refs: dict[str, ActorRef]) -> TimelineEvent:
    start, end = cluster.agreed_range()
    sources = []
    for event in cluster.sources:
        fact: _Fact = event.payload["fact"]  # type: ignore[assignment]
        sources.append(
            EventSource(
                summary=fact.payload["summary"],
                date=event.date,
                date_end=event.date_end,
                date_text=fact.payload.get("date_text"),
                date_disagrees=cluster.disagrees(event),
                location=event.location,
                source=fact.source,
            )
        )
    participants = sorted({key for event in cluster.sources for key in event.participants if key in refs})
    return TimelineEvent(
        id=f"evt_{cluster.head.fact_id}",
        date=start,
        date_end=end,
        summary=sources[0].summary,
        location=next((s.location for s in sources if s.location), None),
        participants=[refs[key] for key in participants],
        sources=sources,
        dates_disagree=any(source.date_disagrees for source in sources),
        merge_reasons=cluster.reasons,
    )


def _timeline_cursor(after: str | None) -> tuple[dt.date | None, int]:
    if not after:
        return None, 0
    day, _, fact_id = after.partition("~")
    try:
        return (dt.date.fromisoformat(day) if day else None), int(fact_id)
    except ValueError:
        raise BadCursor(f"not a timeline cursor: {after!r}") from None


def _proposal_cursor(after: str | None) -> int | None:
    if not after:
        return None
    try:
        return int(after.removeprefix("prp_"))
    except ValueError:
        raise BadCursor(f"not a proposals cursor: {after!r}") from None
