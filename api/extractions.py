"""POST /v1/extractions: one article in, its grounded facts out."""

from __future__ import annotations

from litestar import Controller, post
from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import JSONBody

from api.article_body import ArticleOperation, ArticleRequest
from api.problems import (
    ALWAYS_POSSIBLE,
    ARTICLE_TOO_LARGE,
    BODY_TOO_LARGE,
    INVALID_REQUEST,
    LLM_CIRCUIT_OPEN,
    LLM_OUTPUT_UNUSABLE,
    LLM_RATE_LIMITED,
    LLM_TIMEOUT,
    LLM_UNAVAILABLE,
    MALFORMED_BODY,
    UNSUPPORTED_MEDIA_TYPE,
    problem_responses,
)
from factline.cache import CachingExtractor
from schemas import Extraction, ExtractionRequest


def provide_extractor(state: State) -> CachingExtractor:
    extractor: CachingExtractor = state.extractor
    return extractor


class ExtractionController(Controller):
    path = "/v1/extractions"
    tags = ["extractions"]
    request_class = ArticleRequest
    dependencies = {"extractor": Provide(provide_extractor, sync_to_thread=False)}

    @post(
        operation_id="createExtraction",
        summary="Extract grounded facts from one article",
        description=(
            "Runs the article through the LLM and returns its actors, quotes, events, positions and "
            "proposals. Every item carries evidence: character offsets into the submitted text, computed "
            "by the service. What the model returned but the text does not contain is dropped and listed "
            "in `warnings`."
        ),
        status_code=200,
        operation_class=ArticleOperation,
        responses=problem_responses(
            MALFORMED_BODY,
            BODY_TOO_LARGE,
            ARTICLE_TOO_LARGE,
            UNSUPPORTED_MEDIA_TYPE,
            INVALID_REQUEST,
            LLM_RATE_LIMITED,
            LLM_OUTPUT_UNUSABLE,
            LLM_UNAVAILABLE,
            LLM_CIRCUIT_OPEN,
            LLM_TIMEOUT,
            *ALWAYS_POSSIBLE,
        ),
    )
    async def create_extraction(
        self, data: JSONBody[ExtractionRequest], extractor: NamedDependency[CachingExtractor]
    ) -> Extraction:
        return await extractor.extract(data)
