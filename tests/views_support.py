"""Hand-built extractions for the cross-article view tests (written by hand, not recorded), and adding
them to a batch through the batch store's real claim-and-finish path."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from factline.archives import ArchiveEntry
from factline.batch_store import BatchStore
from schemas import (
    Actor,
    ArchiveKind,
    ArticleInfo,
    DatePrecision,
    Event,
    Extraction,
    ExtractionRequest,
    MatchKind,
    Position,
    Problem,
    Proposal,
    Quote,
    Span,
    Usage,
)

NO_USAGE = Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0, llm_calls=0)


@dataclass
class Article:
    """An article's text and the facts a model found in it; every excerpt must occur in the text."""

    id: str
    text: str
    published: dt.date | None
    actors: list[Actor] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    positions: list[Position] = field(default_factory=list)
    proposals: list[Proposal] = field(default_factory=list)

    def span(self, excerpt: str) -> Span:
        start = self.text.index(excerpt)
        return Span(start=start, end=start + len(excerpt), text=excerpt, match=MatchKind.EXACT, score=100)

    def actor(
        self, name: str, kind: str = "person", roles: Sequence[str] = (), mentions: Sequence[str] = ()
    ) -> str:
        actor_id = f"actor_{len(self.actors) + 1}"
        spans = [self.span(text) for text in (mentions or [name]) if text in self.text]
        self.actors.append(Actor(id=actor_id, name=name, kind=kind, roles=list(roles), mentions=spans))
        return actor_id

    def quote(self, excerpt: str, speaker: str | None, topic: str | None = None) -> None:
        self.quotes.append(
            Quote(
                id=f"quote_{len(self.quotes) + 1}",
                text=excerpt,
                speaker_id=speaker,
                kind="direct",
                verb="said",
                topic=topic,
                evidence=[self.span(excerpt)],
            )
        )

    def event(
        self,
        excerpt: str,
        summary: str,
        date: dt.date | None,
        date_end: dt.date | None = None,
        date_text: str | None = None,
        location: str | None = None,
        participants: Sequence[str] = (),
    ) -> None:
        self.events.append(
            Event(
                id=f"event_{len(self.events) + 1}",
                summary=summary,
                date=date,
                date_end=date_end,
                date_text=date_text,
                date_precision=DatePrecision.DAY if date else DatePrecision.UNKNOWN,
                location=location,
                participant_ids=list(participants),
                evidence=[self.span(excerpt)],
            )
        )

    def position(self, excerpt: str, holder: str, topic: str, stance: str) -> None:
        self.positions.append(
            Position(
                id=f"position_{len(self.positions) + 1}",
                holder_id=holder,
                topic=topic,
                stance=stance,
                summary=excerpt,
                evidence=[self.span(excerpt)],
            )
        )

    def proposal(
        self,
        excerpt: str,
        summary: str,
        proposers: Sequence[str] = (),
        supporters: Sequence[str] = (),
        opponents: Sequence[str] = (),
        status: str = "proposed",
    ) -> None:
        self.proposals.append(
            Proposal(
                id=f"proposal_{len(self.proposals) + 1}",
                summary=summary,
                proposer_ids=list(proposers),
                supporter_ids=list(supporters),
                opponent_ids=list(opponents),
                status=status,
                evidence=[self.span(excerpt)],
            )
        )

    def extraction(self) -> Extraction:
        return Extraction(
            id=f"ext_{self.id}",
            created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            article=ArticleInfo(
                id=self.id,
                published_at=self.published,
                sha256=hashlib.sha256(self.text.encode()).hexdigest(),
                characters=len(self.text),
            ),
            types=["quote", "event", "position", "proposal"],
            actors=self.actors,
            quotes=self.quotes,
            events=self.events,
            positions=self.positions,
            proposals=self.proposals,
            warnings=[],
            usage=NO_USAGE,
            model="hand-built",
            prompt_version="hand-built",
        )


async def _chunk(entries: list[ArchiveEntry]) -> AsyncIterator[Sequence[ArchiveEntry]]:
    yield entries


def _no_problem(error: Exception) -> Problem:
    raise AssertionError(error)


async def add_batch(store: BatchStore, extractions: Sequence[Extraction]) -> str:
    """A batch of these articles, each claimed and finished with its extraction as a worker would."""
    entries = [
        ArchiveEntry(n, extraction.article.id, request=ExtractionRequest(text="-", id=extraction.article.id))
        for n, extraction in enumerate(extractions)
    ]
    batch_id = await store.create(ArchiveKind.NDJSON, None, None, _chunk(entries), _no_problem)
    by_id = {extraction.article.id: extraction for extraction in extractions}
    while (item := await store.claim("test-worker")) is not None:
        assert await store.finish(item, "test-worker", extraction=by_id[item.article_id])
    return batch_id
