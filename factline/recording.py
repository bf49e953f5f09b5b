"""Recording real LLM exchanges as fixtures that tests replay offline.

The extraction runs exactly as in the service; a transport under its LLM client captures each
chat-completion request and response body. The fixture says which model answered, where, and when.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from factline.extraction import Extractor
from factline.llm import LLMClient
from factline.llm_transport import RETRYABLE_STATUSES, connection_transport
from factline.settings import Settings
from schemas import ExtractionRequest, WarningCode

ARTICLE_INDEX = "articles.json"
_DROPPED = {WarningCode.UNGROUNDED, WarningCode.DUPLICATE}
_TIMINGS = ("cache_n", "prompt_n", "prompt_ms", "predicted_n", "predicted_ms")


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes each request to `inner` and keeps the exchange's request and response JSON. An answer
    with a status the transport retries (a 503 from a busy server) is left out: a replay meets the
    answers that ended the calls, as the extraction did."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.exchanges: list[dict[str, Any]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        await response.aread()
        if response.status_code in RETRYABLE_STATUSES:
            return response
        self.exchanges.append(
            {
                "request": {
                    "method": request.method,
                    "path": request.url.path,
                    "json": json.loads(request.content),
                },
                "response": {
                    "status_code": response.status_code,
                    "headers": {k: v for k, v in response.headers.items() if k.lower() in {"retry-after"}},
                    "json": response.json(),
                },
            }
        )
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def load_article_request(article: Path) -> ExtractionRequest:
    """The article with the metadata its folder's index gives it (published_at above all)."""
    index_file = article.parent / ARTICLE_INDEX
    metadata = json.loads(index_file.read_text("utf-8")).get(article.name, {}) if index_file.exists() else {}
    fields = {key: value for key, value in metadata.items() if key in ExtractionRequest.model_fields}
    return ExtractionRequest(text=article.read_text("utf-8"), id=article.name, **fields)


def server_timings(exchanges: list[dict[str, Any]]) -> dict[str, float] | None:
    """llama.cpp's own `timings` summed over the calls: the server's time, apart from any queueing."""
    timings = [t for e in exchanges if (t := e["response"]["json"].get("timings"))]
    if not timings:
        return None
    return {key: round(sum(t.get(key, 0) for t in timings), 1) for key in _TIMINGS}


async def record_article(
    settings: Settings, request: ExtractionRequest, model_sha256: str | None
) -> dict[str, Any]:
    """Run one extraction against the live endpoint; the fixture holds every exchange it made."""
    recorder = RecordingTransport(connection_transport(settings))
    llm = LLMClient(settings, recorder)
    started = datetime.now(UTC)
    try:
        result = await Extractor(llm, settings).extract(request)
    finally:
        await llm.aclose()
    return {
        "recorded": {
            "model": settings.llm_model,
            "model_sha256": model_sha256,
            "endpoint": str(settings.llm_base_url),
            "extraction_calls": settings.call_plan,
            "started_at": started.isoformat(timespec="seconds"),
            "seconds": round((datetime.now(UTC) - started).total_seconds(), 1),
        },
        "article": request.id,
        "request": request.model_dump(mode="json", exclude={"text"}),
        "prompt_version": result.prompt_version,
        "summary": {
            "items": {
                kind: len(getattr(result, kind))
                for kind in ("actors", "quotes", "events", "positions", "proposals")
            },
            "warnings": len(result.warnings),
            "dropped": sum(w.code in _DROPPED for w in result.warnings),
            "usage": result.usage.model_dump(),
            "server_timings": server_timings(recorder.exchanges),
        },
        "exchanges": recorder.exchanges,
    }
