"""Running the extraction over annotated articles: on recorded exchanges (offline) or a live endpoint."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx

from factline.errors import LLMError
from factline.evaluation.gold import GoldArticle
from factline.evaluation.replay import ReplayTransport, StaleRecording
from factline.evaluation.scoring import Counts, score_article
from factline.extraction import Extractor
from factline.llm import LLMClient
from factline.prompting import extraction_prompt
from factline.recording import load_article_request
from factline.settings import Settings
from schemas import Extraction, ItemType, Usage

# Where replayed requests pretend to go; nothing listens there and nothing is sent.
REPLAY_BASE_URL = "http://recorded.invalid/v1"


@dataclass(frozen=True)
class ArticleRun:
    """One article's extraction and its counts against the annotations; a failed one misses them all."""

    article: str
    model: str
    prompt_version: str
    usage: Usage
    counts: dict[ItemType, Counts]
    recorded_at: str | None
    result: Extraction | None = None
    error: str | None = None


async def _extract(
    settings: Settings, transport: httpx.AsyncBaseTransport | None, article: Path
) -> Extraction:
    llm = LLMClient(settings, transport)
    try:
        return await Extractor(llm, settings).extract(load_article_request(article))
    finally:
        await llm.aclose()


async def run_recorded(settings: Settings, gold: GoldArticle, articles: Path, recordings: Path) -> ArticleRun:
    """Replay the article's recorded exchanges through the service's own extraction path."""
    recording = recordings / f"{Path(gold.article).stem}.json"
    transport = ReplayTransport(recording)
    replay_settings = settings.model_copy(
        update={
            "llm_base_url": REPLAY_BASE_URL,
            "llm_model": transport.recorded["model"],
            "llm_max_retries": 0,
            "extraction_calls": transport.recorded.get("extraction_calls", "single"),
        }
    )
    recorded_at = transport.recorded.get("started_at")
    try:
        result = await _extract(replay_settings, transport, articles / gold.article)
    except LLMError as error:
        if transport.stale:
            raise StaleRecording(transport.stale) from error
        return _failed(gold, replay_settings, error, recorded_at)
    return _scored(gold, articles, result, recorded_at)


async def run_live(settings: Settings, gold: GoldArticle, articles: Path) -> ArticleRun:
    """Extract the article with the configured endpoint, as the service would."""
    try:
        result = await _extract(settings, None, articles / gold.article)
    except LLMError as error:
        return _failed(gold, settings, error, None)
    return _scored(gold, articles, result, None)


def _scored(gold: GoldArticle, articles: Path, result: Extraction, recorded_at: str | None) -> ArticleRun:
    text = (articles / gold.article).read_text("utf-8")
    counts = score_article(gold, text, result)
    return ArticleRun(
        gold.article, result.model, result.prompt_version, result.usage, counts, recorded_at, result
    )


def _failed(gold: GoldArticle, settings: Settings, error: LLMError, recorded_at: str | None) -> ArticleRun:
    """The model gave no usable answer (502, 504, …): every reference of the article is missed."""
    counts = {item_type: Counts(reference=len(gold.excerpts(item_type))) for item_type in ItemType}
    usage = error.usage or Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0, llm_calls=0)
    return ArticleRun(
        gold.article,
        settings.llm_model,
        extraction_prompt().version,
        usage,
        counts,
        recorded_at,
        error=f"{type(error).__name__}: {error}",
    )
