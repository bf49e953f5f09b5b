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
from factline.recording import load_article_request
from factline.settings import Settings
from schemas import Extraction, ItemType

# Where replayed requests pretend to go; nothing listens there and nothing is sent.
REPLAY_BASE_URL = "http://recorded.invalid/v1"


@dataclass(frozen=True)
class ArticleRun:
    """One article's extraction and its counts against the annotations."""

    article: str
    result: Extraction
    counts: dict[ItemType, Counts]
    recorded_at: str | None


async def _extract(
    settings: Settings, transport: httpx.AsyncBaseTransport | None, article: Path
) -> Extraction:
    http = httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(settings.llm_timeout_seconds, connect=settings.llm_connect_timeout_seconds),
    )
    llm = LLMClient(settings, http_client=http)
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
    try:
        result = await _extract(replay_settings, transport, articles / gold.article)
    except LLMError as error:
        if transport.stale:
            raise StaleRecording(transport.stale) from error
        raise
    return _scored(gold, articles, result, transport.recorded.get("started_at"))


async def run_live(settings: Settings, gold: GoldArticle, articles: Path) -> ArticleRun:
    """Extract the article with the configured endpoint, as the service would."""
    result = await _extract(settings, None, articles / gold.article)
    return _scored(gold, articles, result, None)


def _scored(gold: GoldArticle, articles: Path, result: Extraction, recorded_at: str | None) -> ArticleRun:
    text = (articles / gold.article).read_text("utf-8")
    return ArticleRun(gold.article, result, score_article(gold, text, result), recorded_at)
