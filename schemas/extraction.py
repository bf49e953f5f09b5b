"""What factline answers: grounded, typed facts about one article."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from schemas.article import ArticleMetadata, ItemType
from schemas.contract import Choice, Contract


class MatchKind(Choice):
    """How an excerpt was located in the article (langextract calls this alignment status)."""

    EXACT = "exact"
    NORMALIZED = "normalized"
    FUZZY = "fuzzy"


class Span(Contract):
    """A piece of the submitted text, located by the service (never trusted from the model)."""

    start: Annotated[
        int, Field(ge=0, description="Offset of the first character (code points).", examples=[57])
    ]
    end: Annotated[int, Field(ge=0, description="Offset one past the last character.", examples=[78])]
    text: Annotated[
        str,
        Field(description="Exactly `article.text[start:end]`.", examples=["fundamentally wrong"]),
    ]
    match: Annotated[
        MatchKind,
        Field(
            description=(
                "exact: the model's excerpt occurs as is; normalized: after folding quotes, dashes, "
                "whitespace and case; fuzzy: best approximate match above the configured threshold."
            ),
            examples=["exact"],
        ),
    ]
    score: Annotated[
        float,
        Field(
            ge=0,
            le=100,
            description="Similarity of the model's excerpt to this span (100 = identical).",
            examples=[100.0],
        ),
    ]


class ActorKind(Choice):
    PERSON = "person"
    ORGANIZATION = "organization"
    COUNTRY = "country"
    GROUP = "group"
    OTHER = "other"


class Actor(Contract):
    """A person, organisation or country the article talks about, listed once."""

    id: Annotated[str, Field(description="Identifier within this extraction.", examples=["actor_1"])]
    name: Annotated[str, Field(description="Canonical (fullest) name.", examples=["Boris Pistorius"])]
    kind: Annotated[ActorKind, Field(description="What sort of actor this is.", examples=["person"])]
    roles: Annotated[
        list[str],
        Field(description="Titles and roles the article gives it.", examples=[["German Defense Minister"]]),
    ]
    mentions: Annotated[
        list[Span],
        Field(description="Every place in the text that names or designates it, in text order."),
    ]


class QuoteKind(Choice):
    DIRECT = "direct"
    PARTIAL = "partial"
    INDIRECT = "indirect"


class FoundBy(Choice):
    """Who found an item: the model, or the service by the article's own wording."""

    MODEL = "model"
    TEXT = "text"


class Quote(Contract):
    """Something a speaker said, as the article reports it."""

    id: Annotated[str, Field(description="Identifier within this extraction.", examples=["quote_1"])]
    text: Annotated[
        str,
        Field(
            description="The words as they stand in the article (equal to `evidence[0].text`).",
            examples=["fundamentally wrong"],
        ),
    ]
    speaker_id: Annotated[
        str | None,
        Field(
            description="The `Actor.id` of the speaker; null when the article does not say who.",
            examples=["actor_1"],
        ),
    ]
    kind: Annotated[
        QuoteKind,
        Field(
            description="direct: a full verbatim statement; partial: a verbatim fragment inside "
            "reported speech; indirect: reported speech.",
            examples=["partial"],
        ),
    ]
    verb: Annotated[
        str | None,
        Field(description="The reporting verb as written.", examples=["said"]),
    ]
    topic: Annotated[
        str | None,
        Field(
            description="What the quote is about, in a few words.", examples=["troop deployments to Ukraine"]
        ),
    ]
    evidence: Annotated[
        list[Span],
        Field(
            min_length=1,
            description="Where the quote stands in the text; the first span is the quote itself.",
        ),
    ]
    found_by: Annotated[
        FoundBy,
        Field(
            description="model: the model read the quoted passage as a quote, or reported it; text: the "
            "service found it by the article's own cues (a quoted passage or reported speech, “he said that "
            "…”, whose speaker the article names) where the model had passed over it.",
            examples=["model"],
        ),
    ] = FoundBy.MODEL
    speaker_cue: Annotated[
        Span | None,
        Field(
            description="The words of the article that name the speaker: a reporting cue (“Pistorius said”, "
            "“the minister added”, “according to him”) or a “– Name” line under the quote. The speaker then "
            "comes from the text, which outranks the model's reading; null when it is the model's reading "
            "or unknown.",
        ),
    ] = None


class DatePrecision(Choice):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    UNKNOWN = "unknown"


class Event(Contract):
    """Something that happened (or is scheduled), with when and where."""

    id: Annotated[str, Field(description="Identifier within this extraction.", examples=["event_1"])]
    summary: Annotated[
        str, Field(description="What happened, in one line.", examples=["Pistorius rejected troop talks"])
    ]
    date: Annotated[
        dt.date | None,
        Field(
            description="Start date (ISO 8601), resolved from `date_text` and the article's "
            "`published_at`; null when it cannot be inferred. Never invented.",
            examples=["2025-12-14"],
        ),
    ]
    date_end: Annotated[
        dt.date | None,
        Field(
            description="Last day when `date_text` names a range ('December 14–15'); otherwise null.",
            examples=["2025-12-15"],
        ),
    ]
    date_text: Annotated[
        str | None,
        Field(description="The date as written in the article.", examples=["December 14–15"]),
    ]
    date_precision: Annotated[
        DatePrecision,
        Field(description="How precisely `date` is known.", examples=["day"]),
    ]
    location: Annotated[str | None, Field(description="Where it happened.", examples=["Berlin"])]
    participant_ids: Annotated[
        list[str], Field(description="`Actor.id`s of those who took part.", examples=[["actor_1"]])
    ]
    evidence: Annotated[list[Span], Field(min_length=1, description="Where the text reports the event.")]
    found_by: Annotated[
        FoundBy,
        Field(
            description="model: the model returned it; text: the service read it off the article's own "
            "wording, a sentence that names a day and reports what was done on it (“On December 7, the "
            "negotiating groups discussed …”), where no event of the model's stands; its summary is the "
            "sentence, its participants the actors the sentence mentions.",
            examples=["model"],
        ),
    ] = FoundBy.MODEL


class Stance(Choice):
    SUPPORT = "support"
    OPPOSE = "oppose"
    CONDITIONAL = "conditional"
    NEUTRAL = "neutral"


class Position(Contract):
    """Where an actor stands on a question."""

    id: Annotated[str, Field(description="Identifier within this extraction.", examples=["position_1"])]
    holder_id: Annotated[
        str | None, Field(description="`Actor.id` of who holds the position.", examples=["actor_1"])
    ]
    topic: Annotated[
        str, Field(description="The question at issue.", examples=["troop deployments to Ukraine"])
    ]
    stance: Annotated[Stance, Field(description="The holder's stance on the topic.", examples=["oppose"])]
    summary: Annotated[
        str, Field(description="The position in one line.", examples=["Deployment talk is premature."])
    ]
    evidence: Annotated[list[Span], Field(min_length=1, description="Where the text states the position.")]
    found_by: Annotated[
        FoundBy,
        Field(
            description="model: the model returned it; text: the service read it off the article's own "
            "wording, a stance verb after a subject the article names (“Kallas criticized the US approach”) "
            "or a short quoted judgement whose speaker it names (“said it was “fundamentally wrong” to …”), "
            "where no position of the model's stands.",
            examples=["model"],
        ),
    ] = FoundBy.MODEL


class ProposalStatus(Choice):
    PROPOSED = "proposed"
    UNDER_NEGOTIATION = "under_negotiation"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    UNKNOWN = "unknown"


class Proposal(Contract):
    """A plan, offer or demand, with who backs it and who rejects it."""

    id: Annotated[str, Field(description="Identifier within this extraction.", examples=["proposal_1"])]
    summary: Annotated[
        str, Field(description="What is proposed, in one line.", examples=["20-point peace plan"])
    ]
    proposer_ids: Annotated[
        list[str], Field(description="`Actor.id`s of who proposed it.", examples=[["actor_2"]])
    ]
    supporter_ids: Annotated[list[str], Field(description="`Actor.id`s of who backs it.", examples=[[]])]
    opponent_ids: Annotated[
        list[str], Field(description="`Actor.id`s of who rejects it.", examples=[["actor_3"]])
    ]
    status: Annotated[ProposalStatus, Field(description="Where the proposal stands.", examples=["proposed"])]
    evidence: Annotated[list[Span], Field(min_length=1, description="Where the text reports the proposal.")]
    found_by: Annotated[
        FoundBy,
        Field(
            description="model: the model returned it; text: the service read it off the article's own "
            "wording, a proposal verb after a subject the article names (“The US has proposed that …”, "
            "“Zelensky offered …”), where no proposal of the model's stands.",
            examples=["model"],
        ),
    ] = FoundBy.MODEL


class WarningCode(Choice):
    UNGROUNDED = "ungrounded"
    DUPLICATE = "duplicate"
    UNRESOLVED_ACTOR = "unresolved_actor"
    UNRESOLVED_DATE = "unresolved_date"
    PAGE_CHROME = "page_chrome"
    CHUNK_FAILED = "chunk_failed"
    UNREAD = "unread"


class ExtractionWarning(Contract):
    """Something the model returned that is not in the result as given, and why."""

    code: Annotated[
        WarningCode,
        Field(
            description="ungrounded: dropped, its text is not in the article; duplicate: dropped, "
            "already returned; unresolved_actor: a named actor is not in the text, the "
            "reference was removed; unresolved_date: date_text kept, date left null; page_chrome: "
            "dropped, it stands in the page around the article (a teaser of another story, a credit, "
            "an appeal); chunk_failed: a part of a long article could not be extracted, its items "
            "are missing (`item` names the part as `chunks[<index>]`); unread: a passage in quotation "
            "marks the model gave no reading of, left out.",
            examples=["ungrounded"],
        ),
    ]
    item: Annotated[
        str,
        Field(description="Which model output it concerns, as `<list>[<index>]`.", examples=["quotes[2]"]),
    ]
    message: Annotated[
        str,
        Field(
            description="What happened, for a person to read.",
            examples=["quote text not found in the article: “We will win”"],
        ),
    ]


class Usage(Contract):
    """LLM cost of the request, summed over every call it made (re-asks included)."""

    prompt_tokens: Annotated[int, Field(ge=0, description="Tokens sent to the model.", examples=[2154])]
    completion_tokens: Annotated[int, Field(ge=0, description="Tokens the model generated.", examples=[812])]
    total_tokens: Annotated[int, Field(ge=0, description="Sum of both.", examples=[2966])]
    llm_calls: Annotated[
        int, Field(ge=0, description="Completions requested, re-asks included.", examples=[1])
    ]


class ArticleInfo(ArticleMetadata):
    """The submitted article's metadata, echoed, plus what the service computed about it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sha256: Annotated[
        str,
        Field(
            description="SHA-256 of the text encoded as UTF-8, hex.",
            examples=["9f2c1f0e7c7b3c1de0a3d6f2f61b6f1c2a3e4d5c6b7a8f9e0d1c2b3a4f5e6d7c"],
        ),
    ]
    characters: Annotated[int, Field(ge=1, description="Length of the text in code points.", examples=[4097])]


class Extraction(Contract):
    """The grounded facts of one article."""

    id: Annotated[
        str, Field(description="Identifier of this extraction.", examples=["ext_0f8fad5bd9cb469fa1b2"])
    ]
    created_at: Annotated[
        dt.datetime,
        Field(description="When the extraction finished (UTC).", examples=["2026-11-22T03:58:12Z"]),
    ]
    article: Annotated[ArticleInfo, Field(description="The article the facts come from.")]
    types: Annotated[
        list[ItemType],
        Field(
            description="The kinds of fact that were extracted.",
            examples=[["quote", "event", "position", "proposal"]],
        ),
    ]
    actors: Annotated[list[Actor], Field(description="People, organisations and countries, each once.")]
    quotes: Annotated[list[Quote], Field(description="Quotes, in text order.")]
    events: Annotated[list[Event], Field(description="Events, in text order.")]
    positions: Annotated[list[Position], Field(description="Positions, in text order.")]
    proposals: Annotated[list[Proposal], Field(description="Proposals, in text order.")]
    warnings: Annotated[
        list[ExtractionWarning],
        Field(description="Model output that was dropped or changed, and why."),
    ]
    usage: Annotated[Usage, Field(description="Tokens and calls spent on this extraction.")]
    model: Annotated[
        str,
        Field(
            description="The LLM that produced the extraction.",
            examples=["qwen2.5-coder-1.5b-instruct-q4_k_m"],
        ),
    ]
    prompt_version: Annotated[
        str,
        Field(
            description="Prompt name and a hash of its text: changes whenever the prompt does.",
            examples=["extraction-v3+49377679"],
        ),
    ]
    cached: Annotated[
        bool,
        Field(
            description="True when an earlier extraction of the same text with the same options, model and "
            "prompt version was reused: no LLM call was made, and `usage` is zero.",
            examples=[False],
        ),
    ] = False


class HealthStatus(Contract):
    """The process is up."""

    status: Annotated[
        Literal["ok"], Field(description="Always `ok` when the process answers.", examples=["ok"])
    ]


class CircuitState(Choice):
    """The LLM circuit breaker's state."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitStatus(Contract):
    """Whether calls to the LLM are paused because it kept failing."""

    state: Annotated[
        CircuitState,
        Field(
            description="`closed`: calls go through. `open`: the endpoint failed repeatedly and calls "
            "fail at once with 503. `half_open`: the cool-down is over and the next call probes it.",
            examples=["closed"],
        ),
    ]
    consecutive_failures: Annotated[
        int,
        Field(ge=0, description="LLM calls that failed in a row (after transport retries).", examples=[0]),
    ]
    retry_after: Annotated[
        int | None,
        Field(description="While `open`: seconds until a probe call is let through.", examples=[None]),
    ]


class LLMStatus(Contract):
    """State of the configured LLM endpoint."""

    configured: Annotated[bool, Field(description="Whether an LLM endpoint is configured.", examples=[True])]
    reachable: Annotated[bool, Field(description="Whether it answered the readiness probe.", examples=[True])]
    model: Annotated[
        str | None, Field(description="Model name requests are sent to.", examples=["gpt-4o-mini"])
    ]
    detail: Annotated[
        str, Field(description="What the probe found.", examples=["endpoint answered in 12 ms"])
    ]
    circuit: Annotated[
        CircuitStatus,
        Field(description="The circuit breaker in front of the LLM: `open` makes the service not ready."),
    ]


class Readiness(Choice):
    """Whether extraction can run."""

    READY = "ready"
    NOT_READY = "not_ready"


class ReadinessStatus(Contract):
    """Whether the service can extract right now."""

    status: Annotated[
        Readiness,
        Field(description="`ready` when extraction can run.", examples=["ready"]),
    ]
    llm: Annotated[LLMStatus, Field(description="The LLM endpoint's state.")]
