"""Splitting an article that exceeds the model's token budget into overlapping parts.

Parts end on paragraph boundaries, or on sentence boundaries inside a paragraph too long for one
part (on word boundaries inside a sentence that is). Each part after the first repeats the last
units of the one before, up to the overlap budget, so a fact that straddles a boundary is seen
whole at least once. Offsets are into the whole text; the parts are extracted separately and their
answers grounded against the whole article.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from factline.errors import LLMError, LLMNotConfigured, LLMRateLimited, LLMUnavailable
from factline.llm import CallLog
from factline.tokens import TokenCounter
from schemas import ArticleFacts, ExtractionRequest, ExtractionWarning, WarningCode
from schemas.llm_output import merge_answers

# Each unit keeps the whitespace after it: units are contiguous and their counts add up to the part's.
_PARAGRAPH = re.compile(r"[^\n]+\n*")
_SENTENCE = re.compile(r".+?(?:[.!?…][\"'”’»)\]]*(?:\s+|$)|[。！？][」』”]*\s*|$)", re.DOTALL)
_WORDS = re.compile(r"\S+(?:\s+\S+){0,49}\s*")  # 50 words: a last resort for a run-on "sentence"


@dataclass(frozen=True)
class Chunk:
    start: int
    end: int


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int


async def _units(
    text: str, start: int, end: int, pattern: re.Pattern[str], counter: TokenCounter
) -> list[_Unit]:
    spans = [(start + m.start(), start + m.end()) for m in pattern.finditer(text[start:end])]
    spans = [(s, e) for s, e in spans if text[s:e].strip()]
    counts = await counter.count([text[s:e] for s, e in spans])
    return [_Unit(s, e, n) for (s, e), n in zip(spans, counts, strict=True)]


async def split_units(text: str, budget: int, counter: TokenCounter) -> list[_Unit]:
    """Paragraphs; sentences of a paragraph over budget; word runs of a sentence over budget."""
    units = []
    for paragraph in await _units(text, 0, len(text), _PARAGRAPH, counter):
        if paragraph.tokens <= budget:
            units.append(paragraph)
            continue
        for sentence in await _units(text, paragraph.start, paragraph.end, _SENTENCE, counter):
            if sentence.tokens <= budget:
                units.append(sentence)
            else:
                units.extend(await _units(text, sentence.start, sentence.end, _WORDS, counter))
    return units


def pack(units: list[_Unit], budget: int, overlap: int) -> list[Chunk]:
    """Greedy parts of at most `budget` tokens; each repeats up to `overlap` tokens of the previous."""
    chunks: list[Chunk] = []
    first = 0
    while first < len(units):
        last, used = first, units[first].tokens
        while last + 1 < len(units) and used + units[last + 1].tokens <= budget:
            last += 1
            used += units[last].tokens
        chunks.append(Chunk(units[first].start, units[last].end))
        if last + 1 >= len(units):
            break
        following, carried = last + 1, 0
        while following - 1 > first and carried + units[following - 1].tokens <= overlap:
            following -= 1
            carried += units[following].tokens
        first = following
    return chunks


# Under 1.5 UTF-8 bytes a token: natural text takes ~4 in English, over 2 in Chinese.
_LIKELY_WITHIN_BYTES_PER_TOKEN = 1.5
# Over 8: English news takes 5.1-5.7 with cl100k; runs of one symbol ("=====") take more.
_LIKELY_OVER_BYTES_PER_TOKEN = 8


def likely_within_budget(text: str, budget: int) -> bool:
    """Whether a text is sent whole before its tokens are counted: within 1.5 bytes a token of the
    budget, it is over budget only if written in rare symbols. The count follows, in the model's
    wait (`within_budget`): counted first, it came before the call, ~0.5 ms on a 4 KB article after
    an idle second (its tables cold; 0.1 ms warm)."""
    return len(text.encode("utf-8")) <= budget * _LIKELY_WITHIN_BYTES_PER_TOKEN


async def within_budget(text: str, budget: int, counter: TokenCounter) -> bool:
    # Byte-level BPE: every token holds at least one UTF-8 byte (a character may take several tokens).
    if len(text.encode("utf-8")) <= budget:
        return True
    [whole] = await counter.count([text])
    return whole <= budget


async def plan_chunks(text: str, budget: int, overlap: int, counter: TokenCounter) -> list[Chunk]:
    """One part for a text within budget, else overlapping parts that cover it all.

    Parts are packed by summing their units' counts; a tokenizer may count the joined text a few
    tokens higher, so each part is counted again and the packing tightened until all fit.

    A text over 8 bytes a budget token is not counted whole first (4 ms of 15 for a 50 KB article,
    before its calls can go): its units are counted anyway, and if they fit after all the packing
    gives one part, counted again like any other.
    """
    likely_over = len(text.encode("utf-8")) > budget * _LIKELY_OVER_BYTES_PER_TOKEN
    if not likely_over and await within_budget(text, budget, counter):
        return [Chunk(0, len(text))]
    units = await split_units(text, budget, counter)
    target = budget
    while True:
        chunks = pack(units, target, overlap)
        counts = await counter.count([text[chunk.start : chunk.end] for chunk in chunks])
        excess = max(counts) - budget
        if excess <= 0 or target <= budget // 2:
            return chunks
        target -= excess


# Failures that concern the whole endpoint, not a part: the article is retried or refused as a whole.
_WHOLE_ARTICLE_FAILURES = (LLMRateLimited, LLMNotConfigured, LLMUnavailable)


async def answer_in_parts(
    answer: Callable[[ExtractionRequest, int, CallLog], Awaitable[ArticleFacts]],
    request: ExtractionRequest,
    chunks: list[Chunk],
    log: CallLog,
) -> tuple[ArticleFacts, list[ExtractionWarning]]:
    """The model's answers for each part, concurrently, as one answer; a part that fails is a warning.

    `answer` gets each part and where it begins in the article. The answers are concatenated:
    grounding against the whole article then gives offsets in it, unifies actors by name, and drops
    an item found again in an overlap as a duplicate.
    """
    if len(chunks) == 1:
        return await answer(request, 0, log), []
    outcomes = await asyncio.gather(
        *(
            answer(request.model_copy(update={"text": request.text[c.start : c.end]}), c.start, log)
            for c in chunks
        ),
        return_exceptions=True,
    )
    answers, lost, errors = [], [], []
    for position, (chunk, outcome) in enumerate(zip(chunks, outcomes, strict=True)):
        if isinstance(outcome, _WHOLE_ARTICLE_FAILURES) or not isinstance(outcome, LLMError | ArticleFacts):
            raise outcome
        if isinstance(outcome, LLMError):
            errors.append(outcome)
            lost.append(
                ExtractionWarning(
                    code=WarningCode.CHUNK_FAILED,
                    item=f"chunks[{position}]",
                    message=f"characters {chunk.start}–{chunk.end} were not extracted: {outcome}",
                )
            )
        else:
            answers.append(outcome)
    if not answers:
        raise errors[0].with_usage(log.usage())
    return merge_answers(answers), lost
