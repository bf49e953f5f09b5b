"""The ASGI application: `api.app:app`, built by `create_app()`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar

from api.extractions import ExtractionController
from api.health import HealthController
from api.openapi import openapi_config
from api.problems import exception_handlers
from factline.extraction import Extractor
from factline.llm import LLMClient
from factline.settings import Settings, get_settings


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    @asynccontextmanager
    async def llm_client(app: Litestar) -> AsyncIterator[None]:
        """One LLM client (and its connection pool) for the process lifetime."""
        llm = LLMClient(settings)
        app.state.extractor = Extractor(llm, settings)
        try:
            yield
        finally:
            await llm.aclose()

    return Litestar(
        route_handlers=[ExtractionController, HealthController],
        lifespan=[llm_client],
        exception_handlers=exception_handlers(),
        openapi_config=openapi_config(),
        request_max_body_size=settings.max_body_bytes,
        debug=False,
    )


app = create_app()
