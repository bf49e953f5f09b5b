"""From an article to its grounded facts: quote candidates, prompt, LLM calls, grounding and assembly.

The model's answer is a proposal, not a result: every excerpt is searched for in the article,
names are resolved to grounded actors, dates are computed from the text, and whatever cannot be
found is dropped with a warning saying why.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from factline.actors import ActorDirectory
from factline.article_reading import ArticleReading
from factline.chunking import Chunk, answer_in_parts, likely_within_budget, plan_chunks, within_budget
from factline.dates import normalise_event_date
from factline.errors import ArticleTooLarge
from factline.grounding import Claims, Located, fold, strip_quote_marks
from factline.llm import CallLog, LLMClient
from factline.prompting import extraction_prompt, plan_extraction_calls, quote_candidates_for
from factline.quote_attribution import ArticleAttribution, TextAttribution
from factline.quote_candidates import QuoteCandidate
from factline.settings import Settings
from factline.stance_cues import OPPOSE, PROPOSAL, SUPPORT, StatedFact
from factline.tokens import token_counter
from schemas import (
    ArticleFacts,
    ArticleInfo,
    DatePrecision,
    Event,
    Extraction,
    ExtractionRequest,
    ExtractionWarning,
    FoundBy,
    ItemType,
    MatchKind,
    Position,
    Proposal,
    ProposalStatus,
    Quote,
    QuoteKind,
    Span,
    Stance,
    Usage,
    WarningCode,
)
from schemas.llm_output import REPORTED_QUOTES, ModelQuoteAttribution, merge_answers

ItemT = TypeVar("ItemT", Quote, Event, Position, Proposal)
StatedT = TypeVar("StatedT", Position, Proposal)
T = TypeVar("T")


# A request reaches the transport within a few loop turns; a thread hop (the SDK's first call) ~1 ms.
_SENDING_WAIT_SECONDS = 0.01
_DAY_RANGE_TAIL = re.compile(r"\s*[-–—]\s*\d{1,2}\b")


class FactAssembler:
    """Grounds one model answer against one article, collecting a warning for everything it drops."""

    def __init__(self, reading: ArticleReading, published: date | None, fuzzy_threshold: float) -> None:
        self.index = reading.index
        self.published = published
        self.fuzzy_threshold = fuzzy_threshold
        self.chrome = reading.chrome
        self.actors = ActorDirectory(self.index, self.chrome)
        self.warnings: list[ExtractionWarning] = []
        self.attribution = ArticleAttribution(reading, self.actors)
        self.reading = reading

    def warn(self, code: WarningCode, item: str, message: str) -> None:
        self.warnings.append(ExtractionWarning(code=code, item=item, message=message))

    def ground(self, excerpt: str, item: str, claims: Claims) -> Span | None:
        """Locate an excerpt not yet used by an item of the same list; warn and return None otherwise."""
        hit = self.index.locate(excerpt, self.fuzzy_threshold, claims)
        if hit is None:
            self.warn(WarningCode.UNGROUNDED, item, f"not found in the article: “{excerpt[:200]}”")
            return None
        if not claims.free(hit):
            self.warn(WarningCode.DUPLICATE, item, f"repeats an earlier item: “{excerpt[:200]}”")
            return None
        claims.claim(hit)
        return self.index.span(hit)

    def actor(self, name: str | None, item: str, evidence: Span | None = None) -> str | None:
        actor_id = self.actors.resolve(name, evidence)
        if actor_id is None and name and name.strip():
            self.warn(
                WarningCode.UNRESOLVED_ACTOR, item, f"“{name}” is not named in the article; reference removed"
            )
        return actor_id

    def actor_list(self, names: Iterable[str], item: str, evidence: Span | None = None) -> list[str]:
        resolved = (self.actor(name, item, evidence) for name in names)
        return list(dict.fromkeys(actor_id for actor_id in resolved if actor_id is not None))

    def add_actors(self, facts: ArticleFacts) -> None:
        self.actors.add(facts.items("actors"))
        for i, actor in enumerate(facts.items("actors")):
            if self.actors.resolve(actor.name) is None:
                self.warn(
                    WarningCode.UNGROUNDED, f"actors[{i}]", f"“{actor.name}” is not named in the article"
                )
                continue
            for role in actor.roles:
                if role.strip() and not self.actors.in_text(role):
                    message = f"role “{role}” of “{actor.name}” is not in the article; not returned"
                    self.warn(WarningCode.UNGROUNDED, f"actors[{i}]", message)

    def grounded(
        self, facts: ArticleFacts, list_name: str, claims: Claims | None = None
    ) -> Iterator[tuple[str, Any, Span]]:
        """The model's items of one list that ground on a span no earlier item of the list holds.

        Yields `(label, model item, span)`; the label (`events[3]`) names the item in warnings.
        """
        claims = claims or Claims()
        for i, model_item in enumerate(facts.items(list_name)):
            label = f"{list_name}[{i}]"
            excerpt = (
                strip_quote_marks(model_item.text) if list_name == REPORTED_QUOTES else model_item.excerpt
            )
            if span := self.ground(excerpt, label, claims):
                yield label, model_item, span

    def quotes(self, facts: ArticleFacts, candidates: Sequence[QuoteCandidate]) -> list[Quote]:
        """The candidates read as quotes (their offsets are known), the reported quotes, then what the
        text reports itself that neither holds."""
        claims = Claims()
        read = list(self._read_candidates(facts, candidates))
        quotes = [
            self._candidate_quote(label, attribution, candidate, claims, found_by)
            for label, attribution, candidate, found_by in read
            if attribution.kind != "not_a_quote"
        ]
        # Words between quotation marks are a candidate's: reported again as a quote without marks,
        # one the model read as no quote would be kept against its own reading (and as indirect).
        not_quotes = [(label, c) for label, attribution, c, _ in read if attribution.kind == "not_a_quote"]
        for label, quote, span in self.grounded(facts, REPORTED_QUOTES, claims):
            within = (n for n, c in not_quotes if c.start <= span.start <= span.end <= c.end)
            if repeated := next(within, None):
                message = f"repeats {repeated}, read as no quote: “{span.text[:200]}”"
                self.warn(WarningCode.DUPLICATE, label, message)
                continue
            told = self.attribution.of_words(span.start, span.end)
            quotes.append(
                Quote(
                    id=label,
                    text=span.text,
                    speaker_id=told.speaker_id if told else self.actor(quote.speaker, label, span),
                    kind=QuoteKind(quote.kind),
                    verb=told.verb if told else quote.verb,
                    topic=None,
                    evidence=[span],
                    speaker_cue=told.cue if told else None,
                )
            )
        return quotes + self._reported_speech(claims)

    def _reported_speech(self, claims: Claims) -> list[Quote]:
        """Statements the text reports without quotation marks ("he explained that …") that no quote
        holds yet, with the speaker their cue names: the model misses most of them."""
        quotes = []
        for n, statement in enumerate(self.reading.reported_speech, start=1):
            located = Located(statement.start, statement.end, MatchKind.EXACT, 100.0)
            if not claims.free(located) or (told := self.attribution.resolve(statement.cue)) is None:
                continue
            claims.claim(located)
            span = self.index.span(located)
            quotes.append(
                Quote(
                    id=f"reported_speech[{n}]",
                    text=span.text,
                    speaker_id=told.speaker_id,
                    kind=QuoteKind.DIRECT if statement.direct else QuoteKind.INDIRECT,
                    verb=told.verb,
                    topic=None,
                    evidence=[span],
                    found_by=FoundBy.TEXT,
                    speaker_cue=told.cue,
                )
            )
        return quotes

    def _read_candidates(
        self, facts: ArticleFacts, candidates: Sequence[QuoteCandidate]
    ) -> Iterator[tuple[str, Any, QuoteCandidate, FoundBy]]:
        """Each candidate with the model's reading of it, or the text's where the model passed over a
        candidate whose speaker the text names; a number read twice or out of range is dropped."""
        read: set[int] = set()
        for i, attribution in enumerate(facts.items("quotes")):
            label = f"quotes[{i}]"
            if not 1 <= attribution.n <= len(candidates):
                self.warn(WarningCode.UNGROUNDED, label, f"there is no quote candidate {attribution.n}")
            elif attribution.n in read:
                self.warn(WarningCode.DUPLICATE, label, f"repeats quote candidate {attribution.n}")
            else:
                read.add(attribution.n)
                candidate = candidates[attribution.n - 1]
                spoken = self._spoken(attribution.n, candidate) if attribution.kind == "not_a_quote" else None
                yield (
                    label,
                    spoken or attribution,
                    candidate,
                    FoundBy.TEXT if spoken else FoundBy.MODEL,
                )
        for n, candidate in enumerate(candidates, start=1):
            if n in read:
                continue
            if reading := self._spoken(n, candidate):
                yield f"candidates[{n}]", reading, candidate, FoundBy.TEXT
            else:
                self.warn(
                    WarningCode.UNREAD, f"candidates[{n}]", f"the model did not read “{candidate.text[:200]}”"
                )

    def _spoken(self, n: int, candidate: QuoteCandidate) -> ModelQuoteAttribution | None:
        """A reading of a candidate whose speaker the text names ("– Name", "…,” she said"): the article
        saying who spoke settles that it is a quote, even against a model that read it as none.
        Capitalised, it is a whole statement; else a fragment of one."""
        if not candidate.attributed_to and not self.attribution.of_words(candidate.start, candidate.end):
            return None
        kind = "direct" if candidate.text[:1].isupper() else "partial"
        return ModelQuoteAttribution(n=n, kind=kind, speaker=None)

    def _candidate_quote(
        self, label: str, reading: Any, candidate: QuoteCandidate, claims: Claims, found_by: FoundBy
    ) -> Quote:
        located = Located(candidate.start, candidate.end, MatchKind.EXACT, 100.0)
        claims.claim(located)
        span = self.index.span(located)
        # A speaker the text names ("– Name", a reporting cue) outranks the model's reading.
        by_line = self.actor(candidate.attributed_to, label)
        told = (
            self.attribution.byline(candidate, by_line)
            if by_line
            else self.attribution.of_words(candidate.start, candidate.end)
        )
        return Quote(
            id=label,
            text=candidate.text,
            speaker_id=told.speaker_id if told else self.actor(reading.speaker, label, span),
            kind=QuoteKind(reading.kind),
            verb=told.verb if told else None,
            topic=None,
            evidence=[span],
            found_by=found_by,
            speaker_cue=told.cue if told else None,
        )

    def events(self, facts: ArticleFacts) -> list[Event]:
        """The model's events, then the dated ones the text states (`factline.event_cues`) where no
        event of the model's stands."""
        claims = Claims()
        events = []
        for label, event, span in self.grounded(facts, ItemType.EVENT.list_name, claims):
            date_text = self._date_text(event.date_text, label, span)
            when = normalise_event_date(date_text, self.published)
            if date_text and when.precision is DatePrecision.UNKNOWN:
                self.warn(WarningCode.UNRESOLVED_DATE, label, f"“{date_text}” cannot be resolved to a date")
            events.append(
                Event(
                    id=label,
                    summary=event.summary,
                    date=when.start,
                    date_end=when.end,
                    date_text=date_text,
                    date_precision=when.precision,
                    location=event.location,
                    participant_ids=self.actor_list(event.participants, label, span),
                    evidence=[span],
                )
            )
        for n, dated in enumerate(self.reading.dated_events, start=1):
            located = Located(dated.start, dated.end, MatchKind.EXACT, 100.0)
            if not claims.take(located):
                continue
            when = normalise_event_date(dated.date_text, self.published)
            events.append(
                Event(
                    id=f"dated[{n}]",
                    summary=dated.summary(self.index.text),
                    date=when.start,
                    date_end=when.end,
                    date_text=dated.date_text,
                    date_precision=when.precision,
                    location=dated.location,
                    participant_ids=self.actors.within(dated.start, dated.end),
                    evidence=[self.index.span(located)],
                    found_by=FoundBy.TEXT,
                )
            )
        return events

    def positions(self, facts: ArticleFacts) -> list[Position]:
        """The model's positions, and those the text states (`factline.stance_cues`)."""
        claims = Claims()
        positions = [
            Position(
                id=label,
                holder_id=self.actor(position.holder, label, span),
                topic=position.topic,
                stance=Stance(position.stance),
                summary=position.summary,
                evidence=[span],
            )
            for label, position, span in self.grounded(facts, ItemType.POSITION.list_name, claims)
        ]

        def stated(label: str, fact: StatedFact, told: TextAttribution, span: Span) -> Position:
            return Position(
                id=label,
                holder_id=told.speaker_id,
                topic=fact.topic,
                stance=Stance(fact.kind),
                summary=span.text,
                evidence=[span],
                found_by=FoundBy.TEXT,
            )

        return self._with_stated(positions, (SUPPORT, OPPOSE), claims, stated)

    def proposals(self, facts: ArticleFacts) -> list[Proposal]:
        """The model's proposals, and those the text states (`factline.stance_cues`)."""
        claims = Claims()
        proposals = [
            Proposal(
                id=label,
                summary=proposal.summary,
                proposer_ids=self.actor_list(proposal.proposers, label, span),
                supporter_ids=self.actor_list(proposal.supporters, label, span),
                opponent_ids=self.actor_list(proposal.opponents, label, span),
                status=ProposalStatus(proposal.status),
                evidence=[span],
            )
            for label, proposal, span in self.grounded(facts, ItemType.PROPOSAL.list_name, claims)
        ]

        def stated(label: str, fact: StatedFact, told: TextAttribution, span: Span) -> Proposal:
            return Proposal(
                id=label,
                summary=fact.topic,
                proposer_ids=[told.speaker_id],
                supporter_ids=[],
                opponent_ids=[],
                status=ProposalStatus.PROPOSED,
                evidence=[span],
                found_by=FoundBy.TEXT,
            )

        return self._with_stated(proposals, (PROPOSAL,), claims, stated)

    def _with_stated(
        self,
        listed: list[StatedT],
        kinds: tuple[str, ...],
        claims: Claims,
        build: Callable[[str, StatedFact, TextAttribution, Span], StatedT],
    ) -> list[StatedT]:
        """The model's items with the text's stated facts of `kinds` added. A fact whose clause an item
        stands on is that item's already. An item about the same thing in the same words gives way to
        the fact, whose evidence and actors are the text's own: the article saying who proposed what
        outranks the model's reading, as its reporting cues do for quotes."""
        kept = list(listed)
        for n, (fact, told) in enumerate(self.attribution.stated_facts, start=1):
            located = Located(fact.start, fact.end, MatchKind.EXACT, 100.0)
            if fact.kind not in kinds or not claims.take(located):
                continue
            span = self.index.span(located)
            about = fold(fact.topic)
            for item in [item for item in kept if about in _what_about(item)]:
                kept.remove(item)
                message = f"the article states it itself: “{span.text[:200]}”"
                self.warn(WarningCode.DUPLICATE, item.id, message)
            kept.append(build(f"stated[{n}]", fact, told, span))
        return kept

    def outside_chrome(self, items: list[ItemT]) -> list[ItemT]:
        """The items whose evidence is the article's own text; the rest are dropped with a warning."""
        kept = []
        for item in items:
            span = item.evidence[0]
            if self.chrome.covers(span.start, span.end):
                reason = self.chrome.reason(span.start, span.end)
                self.warn(
                    WarningCode.PAGE_CHROME,
                    item.id,
                    f"in the page around the article ({reason}): “{span.text[:200]}”",
                )
            else:
                kept.append(item)
        return kept

    def _date_text(self, date_text: str | None, item: str, evidence: Span) -> str | None:
        """The date as the article writes it, preferably inside the event's evidence, or None.

        A date the model made up resolves to nothing; one it cut short ("December 14" of
        "December 14–15") is completed from the text.
        """
        if not date_text or not date_text.strip():
            return None
        hits = self.index.find_all(date_text)
        if not hits:
            self.warn(WarningCode.UNRESOLVED_DATE, item, f"date “{date_text}” is not in the article; removed")
            return None
        hit = next((h for h in hits if evidence.start <= h.start < evidence.end), hits[0])
        end = hit.end
        if tail := _DAY_RANGE_TAIL.match(self.index.text, end):
            end = tail.end()
        return self.index.text[hit.start : end]


def _what_about(item: Position | Proposal) -> set[str]:
    """What an item is about, in its own words, folded."""
    return {fold(item.summary), *([fold(item.topic)] if isinstance(item, Position) else [])}


def in_text_order(items: list[ItemT], prefix: str) -> list[ItemT]:
    """Items sorted by where their evidence starts, numbered in that order.

    Numbered in place, though the models are frozen: this assembly built them a moment before and
    nothing else holds them yet (frozen models with list fields are unhashable: none sits in a set).
    A copy of each (`model_copy`) was 7 % of a 4 KB article's assembly."""
    ordered = sorted(items, key=lambda item: item.evidence[0].start)
    for n, item in enumerate(ordered, start=1):
        item.__dict__["id"] = f"{prefix}_{n}"
    return ordered


def assemble_extraction(
    request: ExtractionRequest,
    facts: ArticleFacts,
    *,
    candidates: Sequence[QuoteCandidate] = (),
    usage: Usage,
    model: str,
    prompt_version: str,
    fuzzy_threshold: float,
    reading: ArticleReading | None = None,
) -> Extraction:
    """Ground the model's answer in the article and build the public result; `reading`, the
    article's text-only analyses when they were read already (in the LLM's wait)."""
    reading = reading or ArticleReading(request.text)
    assembler = FactAssembler(reading, request.published_date, fuzzy_threshold)
    assembler.add_actors(facts)
    found = assembler.quotes(facts, candidates) if ItemType.QUOTE in request.types else []
    quotes = in_text_order(assembler.outside_chrome(found), "quote")
    found_events = assembler.events(facts) if ItemType.EVENT in request.types else []
    events = in_text_order(assembler.outside_chrome(found_events), "event")
    found_positions = assembler.positions(facts) if ItemType.POSITION in request.types else []
    positions = in_text_order(assembler.outside_chrome(found_positions), "position")
    found_proposals = assembler.proposals(facts) if ItemType.PROPOSAL in request.types else []
    proposals = in_text_order(assembler.outside_chrome(found_proposals), "proposal")
    return Extraction(
        id=f"ext_{uuid.uuid4().hex}",
        created_at=datetime.now(UTC),
        article=ArticleInfo(
            **request.model_dump(include=set(ArticleInfo.model_fields) - {"sha256", "characters"}),
            sha256=hashlib.sha256(request.text.encode("utf-8")).hexdigest(),
            characters=len(request.text),
        ),
        types=request.types,
        actors=assembler.actors.actors(),
        quotes=quotes,
        events=events,
        positions=positions,
        proposals=proposals,
        warnings=assembler.warnings,
        usage=usage,
        model=model,
        prompt_version=prompt_version,
    )


class Extractor:
    """Runs extractions with one LLM client and one set of settings."""

    def __init__(self, llm: LLMClient, settings: Settings) -> None:
        self.llm = llm
        self.settings = settings
        self.tokens = token_counter(settings)

    async def answer(
        self, part: ExtractionRequest, log: CallLog
    ) -> tuple[ArticleFacts, list[QuoteCandidate]]:
        """The model's answers for an article, or for one part of a long one, as one answer; with the
        quote candidates it was asked to read."""
        candidates = quote_candidates_for(part)
        # In order and in one turn: each call after the first finds the article in the server's cache.
        async with self.llm.turn():
            answers = [
                await self.llm.complete(call.messages, call.response_model, log)
                for call in plan_extraction_calls(part, candidates, self.settings.call_plan)
            ]
        return (answers[0] if len(answers) == 1 else merge_answers(answers)), candidates

    async def extract(self, request: ExtractionRequest) -> Extraction:
        if len(request.text) > self.settings.max_article_chars:
            raise ArticleTooLarge(len(request.text), self.settings.max_article_chars)
        log = CallLog()
        candidates = quote_candidates_for(request)
        numbers = {candidate.start: n for n, candidate in enumerate(candidates, start=1)}

        async def answer_part(part: ExtractionRequest, start: int, log: CallLog) -> ArticleFacts:
            facts, part_candidates = await self.answer(part, log)
            return renumber_candidates(facts, part_candidates, start, numbers)

        text, budget = request.text, self.settings.chunk_budget_tokens
        uncounted = likely_within_budget(text, budget)
        chunks = [Chunk(0, len(text))] if uncounted else await self._plan(text)
        reading = ArticleReading(text)

        async def meanwhile() -> bool:
            """Read the text; whether the article sent uncounted is over budget after all."""
            reading.read(request.types)
            return uncounted and not await within_budget(text, budget, self.tokens)

        answering = answer_in_parts(answer_part, request, chunks, log)
        outcome = await _meanwhile(answering, log, meanwhile)
        if outcome is None:  # withdrawn: the article is split after all
            outcome = await answer_in_parts(answer_part, request, await self._plan(text), log)
        facts, lost = outcome
        extraction = assemble_extraction(
            request,
            facts,
            candidates=candidates,
            usage=log.usage(),
            model=self.llm.model,
            prompt_version=extraction_prompt().version,
            fuzzy_threshold=self.settings.fuzzy_match_threshold,
            reading=reading,
        )
        return (
            extraction.model_copy(update={"warnings": [*lost, *extraction.warnings]}) if lost else extraction
        )

    async def _plan(self, text: str) -> list[Chunk]:
        budget, overlap = self.settings.chunk_budget_tokens, self.settings.chunk_overlap_tokens
        return await plan_chunks(text, budget, overlap, self.tokens)


async def _meanwhile(
    answering: Coroutine[Any, Any, T], log: CallLog, work: Callable[[], Awaitable[bool]]
) -> T | None:
    """What `answering` returns, with `work` done on the event loop while it waits for the model;
    None when `work` returns True: the answer is not wanted, and its calls are withdrawn.

    `work` starts once the first request has gone to the transport (`log.sent`) and the loop has
    turned once more for it to be written: the model starts before `work` does, not after. A call
    that has not sent within `_SENDING_WAIT_SECONDS` waits for an LLM slot, longer than `work` takes.
    """
    task = asyncio.ensure_future(answering)
    sent = asyncio.ensure_future(log.sent.wait())
    try:
        await asyncio.wait((task, sent), timeout=_SENDING_WAIT_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        await asyncio.sleep(0)
        if await work():
            task.cancel()
            await asyncio.wait([task])
            if not task.cancelled():
                task.exception()  # finished before it could be withdrawn: its outcome is not wanted either
            return None
    except BaseException:
        task.cancel()
        raise
    finally:
        sent.cancel()
    return await task


def renumber_candidates(
    facts: ArticleFacts, part_candidates: list[QuoteCandidate], start: int, numbers: dict[int, int]
) -> ArticleFacts:
    """A part's quote answers with the whole article's candidate numbers (`numbers`: where each
    article candidate begins → its number); the part begins at `start`.

    A part numbers its own candidates from 1. One cut by the part's edge is none of the article's and
    is left out: the neighbouring part, which overlaps, holds it whole. Numbers the part never had
    stay out of range, for assembly to report.
    """
    if "quotes" not in type(facts).model_fields:
        return facts
    quotes = []
    for quote in facts.items("quotes"):
        if not 1 <= quote.n <= len(part_candidates):
            quotes.append(quote.model_copy(update={"n": 0}))
        elif (number := numbers.get(start + part_candidates[quote.n - 1].start)) is not None:
            quotes.append(quote.model_copy(update={"n": number}))
    return facts.model_copy(update={"quotes": quotes})
