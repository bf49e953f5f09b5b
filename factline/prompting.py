"""Where an article becomes the chat messages sent to the model, in one call or one call per type.

One call per type is for a small model: every call shares one prefix, the system prompt and a worked
example as a past turn (a small model given the example inline copied its names; as a turn it does
not), then the article with its numbered quote candidates. Only the last message, the task with the
instructions for its types, differs, so a server with a prompt cache (llama.cpp) processes the
article once for all the calls. One call for everything is for a strong model, which follows the
instructions and the schema without an example: ~740 fewer prompt tokens on every article.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Literal

from factline.quote_candidates import QuoteCandidate, find_quote_candidates
from prompts import PromptTemplate, load_prompt
from schemas import ALL_ITEM_TYPES, ArticleFacts, ExtractionRequest, ItemType, facts_model_for

EXTRACTION_PROMPT = "extraction-v3"
# A long candidate is shown by its ends: the model reads it whole in the article just above.
_SHOWN_HEAD, _SHOWN_TAIL = 70, 30

CallPlan = Literal["single", "per_type"]


@dataclass(frozen=True)
class ExtractionCall:
    """One request to the model: its messages and the answer's schema."""

    messages: list[dict[str, str]]
    response_model: type[ArticleFacts]


def extraction_prompt() -> PromptTemplate:
    return load_prompt(EXTRACTION_PROMPT)


def quote_candidates_for(request: ExtractionRequest) -> list[QuoteCandidate]:
    """The article's quote candidates when quotes are asked for; none otherwise."""
    return find_quote_candidates(request.text) if ItemType.QUOTE in request.types else []


def _shown(candidate: QuoteCandidate) -> str:
    text = " ".join(candidate.text.split())
    if len(text) > _SHOWN_HEAD + _SHOWN_TAIL + 5:
        text = f"{text[:_SHOWN_HEAD].rstrip()} … {text[-_SHOWN_TAIL:].lstrip()}"
    byline = f" – {candidate.attributed_to}" if candidate.attributed_to else ""
    return f"“{text}”{byline}"


def article_message(
    text: str, candidates: list[QuoteCandidate], *, title: str | None = None, published: date | None = None
) -> str:
    """The article, its metadata and its numbered quote candidates: the shared part of every call."""
    header = []
    if title:
        header.append(f"Title: {title}")
    if published:
        header.append(f"Published: {published.isoformat()}")
    # Surrounding whitespace tells the model nothing; offsets come from grounding against the full text.
    lines = [*header, "Article:", text.strip()]
    if candidates:
        lines += ["", "Quote candidates:"]
        lines += [f"{n}. {_shown(candidate)}" for n, candidate in enumerate(candidates, start=1)]
    return "\n".join(lines)


@cache
def _task(types: tuple[ItemType, ...], *, actors: bool) -> str:
    prompt = extraction_prompt()
    lists = (["actors"] if actors else []) + [
        name
        for item_type in types
        for name in (["quotes", "reported_quotes"] if item_type is ItemType.QUOTE else [item_type.list_name])
    ]
    sections = (["actors"] if actors else []) + [item_type.value for item_type in types]
    return "\n".join([f"Answer with JSON holding: {', '.join(lists)}.", *map(prompt.section, sections)])


@cache
def _worked_example() -> tuple[tuple[str, str], ...]:
    """(role, content) of the example turn, built once. Its task carries every list's instructions:
    with the list names only, the 1.5B model answered later calls with the example's items."""
    prompt = extraction_prompt()
    example = prompt.section("example article")
    return (
        ("user", article_message(example, find_quote_candidates(example))),
        ("user", _task(tuple(ALL_ITEM_TYPES), actors=True)),
        ("assistant", prompt.section("example answer")),
    )


def shared_prefix(plan: CallPlan) -> list[dict[str, str]]:
    """The messages every extraction call of this plan begins with: the system prompt, and with one
    call per type the worked example, which the system prompt then announces."""
    prompt = extraction_prompt()
    if plan == "single":
        return [{"role": "system", "content": prompt.system}]
    return [
        {"role": "system", "content": f"{prompt.system}\n{prompt.section('worked example')}"},
        *({"role": role, "content": content} for role, content in _worked_example()),
    ]


def plan_extraction_calls(
    request: ExtractionRequest, candidates: list[QuoteCandidate], plan: CallPlan
) -> list[ExtractionCall]:
    """One call for all requested types, or one per type (actors asked in the first)."""
    article = article_message(request.text, candidates, title=request.title, published=request.published_date)
    shared = [*shared_prefix(plan), {"role": "user", "content": article}]
    types = sorted(request.types, key=ALL_ITEM_TYPES.index)
    groups = [types] if plan == "single" else [[item_type] for item_type in types]
    return [
        ExtractionCall(
            messages=[*shared, {"role": "user", "content": _task(tuple(types), actors=first)}],
            response_model=facts_model_for(types, candidates=len(candidates), actors=first),
        )
        for first, types in ((n == 0, group) for n, group in enumerate(groups))
    ]
