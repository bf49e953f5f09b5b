"""Views across the articles of one or more batches: actors, one timeline, proposals, positions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import Field

from schemas.contract import Choice, Contract
from schemas.extraction import ActorKind, ProposalStatus, QuoteKind, Span, Stance


class ViewPage(Contract):
    """A page of a view; the items follow in the subclass."""

    next_cursor: Annotated[
        str | None, Field(description="Pass as `after` for the next page; null on the last.", examples=[None])
    ]


class SourceRef(Contract):
    """Where a fact comes from: the batch item (article) and the evidence spans in its text."""

    batch_id: Annotated[str, Field(description="The batch of the article.", examples=["bat_0f8fad5b"])]
    item_id: Annotated[str, Field(description="The article's item in the batch.", examples=["itm_3c1d9b0a"])]
    article_id: Annotated[
        str | None, Field(description="The article's own id.", examples=["004_8dd281839903a95c.txt"])
    ]
    published_at: Annotated[
        dt.date | None, Field(description="The article's publication day.", examples=["2025-12-15"])
    ]
    evidence: Annotated[list[Span], Field(description="Where the article's text states the fact.")]


class ActorRef(Contract):
    """An actor of the cross-article views."""

    key: Annotated[
        str,
        Field(description="The normalised name actors are merged by; stable.", examples=["boris pistorius"]),
    ]
    name: Annotated[str, Field(description="The name shown.", examples=["Boris Pistorius"])]


class NameKind(Choice):
    """How an actor was called: a name (alias) or a title or role."""

    ALIAS = "alias"
    ROLE = "role"


class ProposalRole(Choice):
    """An actor's part in a proposal."""

    PROPOSER = "proposer"
    SUPPORTER = "supporter"
    OPPONENT = "opponent"


class ActorName(Contract):
    """A name or role an actor was given, and why it was merged into this actor."""

    name: Annotated[str, Field(description="As the article wrote it.", examples=["Pistorius"])]
    kind: Annotated[
        NameKind,
        Field(description="alias: a name it is called by; role: a title or role.", examples=["alias"]),
    ]
    article_id: Annotated[
        str | None, Field(description="The article it was first seen in.", examples=["001_c0f1db72.txt"])
    ]
    reason: Annotated[
        str,
        Field(
            description="The evidence for the merge.",
            examples=["same normalised name “boris pistorius” (title “German Defense Minister” removed)"],
        ),
    ]


class ActorQuote(Contract):
    """A quote of the actor in one article."""

    date: Annotated[
        dt.date | None, Field(description="The article's publication day.", examples=["2025-12-15"])
    ]
    text: Annotated[
        str, Field(description="The words as the article has them.", examples=["fundamentally wrong"])
    ]
    kind: Annotated[QuoteKind, Field(description="direct, partial or indirect.", examples=["partial"])]
    topic: Annotated[str | None, Field(description="What it is about.", examples=["troop deployments"])]
    source: Annotated[SourceRef, Field(description="The article and span it comes from.")]


class ActorPosition(Contract):
    """A position the actor holds, as one article reports it."""

    date: Annotated[
        dt.date | None, Field(description="The article's publication day.", examples=["2025-12-15"])
    ]
    topic: Annotated[str, Field(description="The question at issue.", examples=["NATO membership"])]
    stance: Annotated[Stance, Field(description="The stance taken.", examples=["oppose"])]
    summary: Annotated[str, Field(description="The position in one line.", examples=["Talk is premature."])]
    source: Annotated[SourceRef, Field(description="The article and span it comes from.")]


class ActorProposalRole(Contract):
    """The actor's part in a proposal, as one article reports it."""

    proposal_id: Annotated[str, Field(description="The tracked proposal's id.", examples=["prp_12"])]
    role: Annotated[
        ProposalRole,
        Field(description="Whether it proposed, supported or opposed it.", examples=["supporter"]),
    ]
    date: Annotated[
        dt.date | None, Field(description="The article's publication day.", examples=["2025-12-15"])
    ]
    summary: Annotated[
        str, Field(description="The proposal as this article reports it.", examples=["20-point plan"])
    ]
    source: Annotated[SourceRef, Field(description="The article and span it comes from.")]


class CrossActor(Contract):
    """One person or organisation across articles, with what it said, holds and proposed, in date order."""

    key: Annotated[
        str, Field(description="The normalised name it is merged by.", examples=["boris pistorius"])
    ]
    name: Annotated[str, Field(description="Its name.", examples=["Boris Pistorius"])]
    kind: Annotated[ActorKind, Field(description="What sort of actor it is.", examples=["person"])]
    names: Annotated[
        list[ActorName],
        Field(description="Every name and role it was given, with the evidence of each merge."),
    ]
    article_count: Annotated[int, Field(ge=0, description="Articles that name it.", examples=[5])]
    quote_count: Annotated[
        int,
        Field(
            ge=0,
            description="Its quotes matching the filters; `quotes` holds the first `facts`.",
            examples=[12],
        ),
    ]
    position_count: Annotated[
        int,
        Field(
            ge=0,
            description="Its positions matching the filters; `positions` holds the first `facts`.",
            examples=[4],
        ),
    ]
    proposal_count: Annotated[
        int,
        Field(
            ge=0,
            description="Its proposal roles matching the filters; `proposals` holds the first `facts`.",
            examples=[2],
        ),
    ]
    quotes: Annotated[list[ActorQuote], Field(description="Its quotes, oldest article first.")]
    positions: Annotated[list[ActorPosition], Field(description="Its positions, oldest article first.")]
    proposals: Annotated[
        list[ActorProposalRole], Field(description="Proposals it made, backed or opposed, oldest first.")
    ]


class ActorPage(ViewPage):
    """One page of actors, by key."""

    actors: Annotated[list[CrossActor], Field(description="The actors of this page.")]


class EventSource(Contract):
    """One article's report of a timeline event."""

    summary: Annotated[
        str, Field(description="What happened, as this article's extraction says.", examples=["Talks"])
    ]
    date: Annotated[dt.date | None, Field(description="The day this article gives.", examples=["2025-12-14"])]
    date_end: Annotated[
        dt.date | None, Field(description="Its last day, for a range.", examples=["2025-12-15"])
    ]
    date_text: Annotated[
        str | None, Field(description="The date as this article wrote it.", examples=["December 14–15"])
    ]
    date_disagrees: Annotated[
        bool,
        Field(
            description="True when this article dates the event outside the range most sources give.",
            examples=[False],
        ),
    ]
    location: Annotated[str | None, Field(description="Where, as this article says.", examples=["Berlin"])]
    source: Annotated[SourceRef, Field(description="The article and span it comes from.")]


class TimelineEvent(Contract):
    """One event of the timeline, reported by one or more articles."""

    id: Annotated[str, Field(description="Its id: the first report's fact id.", examples=["evt_41"])]
    date: Annotated[
        dt.date | None, Field(description="Start day most sources give.", examples=["2025-12-14"])
    ]
    date_end: Annotated[
        dt.date | None, Field(description="Last day most sources give.", examples=["2025-12-15"])
    ]
    summary: Annotated[
        str, Field(description="What happened (the first report's summary).", examples=["Talks"])
    ]
    location: Annotated[
        str | None, Field(description="Where, per the first report naming it.", examples=["Berlin"])
    ]
    participants: Annotated[list[ActorRef], Field(description="Actors any source names as taking part.")]
    sources: Annotated[list[EventSource], Field(description="Each article's report, first report first.")]
    dates_disagree: Annotated[
        bool, Field(description="True when any source gives another date.", examples=[False])
    ]
    merge_reasons: Annotated[
        list[str],
        Field(
            description="Why each further source was taken for the same event.",
            examples=[["004.txt: dates 2025-12-14 and 2025-12-15 within a day; same location “Berlin”"]],
        ),
    ]


class TimelinePage(ViewPage):
    """One page of the timeline, oldest first (undated reports at their publication day)."""

    events: Annotated[list[TimelineEvent], Field(description="The events of this page.")]


class ProposalBacking(Contract):
    """An actor proposing, supporting or opposing a proposal, over the reports that say so."""

    actor: Annotated[ActorRef, Field(description="Who.")]
    first_date: Annotated[
        dt.date | None,
        Field(description="Publication day of the first report saying so.", examples=["2025-12-01"]),
    ]
    last_date: Annotated[
        dt.date | None,
        Field(description="Publication day of the latest report saying so.", examples=["2025-12-15"]),
    ]
    reports: Annotated[int, Field(ge=1, description="How many reports say so.", examples=[3])]


class ProposalReport(Contract):
    """One article's report of a tracked proposal."""

    date: Annotated[
        dt.date | None, Field(description="The article's publication day.", examples=["2025-12-15"])
    ]
    summary: Annotated[
        str, Field(description="The proposal as this article reports it.", examples=["20-point plan"])
    ]
    status: Annotated[ProposalStatus, Field(description="Its status in this article.", examples=["proposed"])]
    match: Annotated[
        str,
        Field(description="Why this report was taken for this proposal.", examples=["first report"]),
    ]
    source: Annotated[SourceRef, Field(description="The article and span it comes from.")]


class TrackedProposal(Contract):
    """A proposal across articles: who proposed, backed and opposed it, when, and its status over time."""

    id: Annotated[str, Field(description="Its id.", examples=["prp_12"])]
    summary: Annotated[str, Field(description="As first reported.", examples=["20-point peace plan"])]
    status: Annotated[
        ProposalStatus, Field(description="The status of the latest report.", examples=["under_negotiation"])
    ]
    proposers: Annotated[list[ProposalBacking], Field(description="Who proposed it, oldest first.")]
    supporters: Annotated[list[ProposalBacking], Field(description="Who supported it, oldest first.")]
    opponents: Annotated[list[ProposalBacking], Field(description="Who opposed it, oldest first.")]
    report_count: Annotated[int, Field(ge=1, description="Its reports matching the filters.", examples=[7])]
    history: Annotated[
        list[ProposalReport],
        Field(description="Its reports, oldest first (the first `facts` of them): status over time."),
    ]


class ProposalPage(ViewPage):
    """One page of tracked proposals, by id."""

    proposals: Annotated[list[TrackedProposal], Field(description="The proposals of this page.")]


class StanceEntry(Contract):
    """An actor's stance on a topic as one article reports it."""

    date: Annotated[
        dt.date | None, Field(description="The article's publication day.", examples=["2025-12-15"])
    ]
    stance: Annotated[Stance, Field(description="The stance.", examples=["oppose"])]
    topic: Annotated[
        str, Field(description="The topic as this article words it.", examples=["NATO membership"])
    ]
    summary: Annotated[str, Field(description="The position in one line.", examples=["Opposes membership."])]
    changed: Annotated[
        bool, Field(description="True when the stance differs from the one before it.", examples=[True])
    ]
    source: Annotated[SourceRef, Field(description="The article and span it comes from.")]


class TopicStances(Contract):
    """An actor's stances on one topic over time."""

    topic: Annotated[str, Field(description="The topic, as first worded.", examples=["NATO membership"])]
    changed: Annotated[bool, Field(description="True when the stance ever changed.", examples=[True])]
    stances: Annotated[list[StanceEntry], Field(description="Oldest first; undated last.")]


class ActorPositions(Contract):
    """An actor's positions per topic over time."""

    actor: Annotated[ActorRef, Field(description="Whose positions.")]
    position_count: Annotated[
        int,
        Field(
            ge=1,
            description="Its positions matching the filters; `topics` hold the first `facts`.",
            examples=[9],
        ),
    ]
    topics: Annotated[list[TopicStances], Field(description="Its topics, in the order first stated.")]


class PositionPage(ViewPage):
    """One page of actors' positions, by actor key."""

    actors: Annotated[list[ActorPositions], Field(description="The actors of this page.")]
