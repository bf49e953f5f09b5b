"""The ASGI application: `api.app:app`, built by `create_app()`."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from litestar import Litestar
from litestar.logging import LoggingConfig

from api.batches import BatchController
from api.extractions import ExtractionController
from api.health import HealthController
from api.openapi import drop_generic_validation_responses, openapi_config
from api.problems import exception_handlers, problem_for
from factline.batch_store import BatchStore
from factline.batch_workers import BatchWorkers
from factline.cache import CachingExtractor
from factline.database import create_engine, sessions, upgrade_to_head
from factline.extraction import Extractor
from factline.llm import LLMClient
from factline.local_llm import LOCAL_MODELS, LocalSetup, run_local_server
from factline.settings import Settings, get_settings

logger = logging.getLogger("factline")


async def _llm_settings(settings: Settings, stack: AsyncExitStack) -> tuple[Settings, str | None]:
    """The settings extraction runs with: the configured endpoint, or the embedded server started here.

    The second value says why there is no LLM, when there is none.
    """
    if not settings.uses_local_llm:
        return settings, None
    model = LOCAL_MODELS[settings.local_model]
    setup = LocalSetup(settings.local_home)
    if not setup.is_ready(model):
        reason = (
            f"No LLM endpoint is configured and the embedded model {model.name} is not set up in "
            f"{settings.local_home}: run `factline setup-local` (or `make run`), "
            "or set FACTLINE_LLM_BASE_URL."
        )
        logger.warning(reason)
        return settings, reason
    logger.info("starting the embedded LLM %s", model.name)
    try:
        server = await stack.enter_async_context(
            run_local_server(
                setup,
                model,
                context=settings.local_context_tokens,
                threads=settings.local_threads,
                startup_timeout=settings.local_startup_timeout_seconds,
            )
        )
    except (OSError, RuntimeError) as error:
        # The service still serves (probes, docs, clear 503s) when its embedded model cannot start.
        reason = f"The embedded model {model.name} failed to start: {error}"
        logger.error(reason)
        return settings, reason
    logger.info("embedded LLM ready at %s", server.base_url)
    return settings.for_local_server(server.base_url), None


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()

    @asynccontextmanager
    async def services(app: Litestar) -> AsyncIterator[None]:
        """For the process: one LLM client (and the embedded server if used), the database, the workers."""
        async with AsyncExitStack() as stack:
            effective, unavailable_reason = await _llm_settings(settings, stack)
            llm = LLMClient(effective, unavailable_reason=unavailable_reason)
            stack.push_async_callback(llm.aclose)
            engine = create_engine(settings.database_url)
            stack.push_async_callback(engine.dispose)
            await upgrade_to_head(engine)
            extractor = CachingExtractor(Extractor(llm, effective), sessions(engine))
            stack.push_async_callback(extractor.aclose)
            store = BatchStore(sessions(engine), settings.batch_lease_seconds)
            workers = BatchWorkers(
                store,
                extractor,
                problem_for,
                concurrency=settings.batch_concurrency,
                lease_seconds=settings.batch_lease_seconds,
                poll_seconds=settings.batch_poll_seconds,
            )
            app.state.settings = settings
            app.state.extractor = extractor
            app.state.batch_store = store
            app.state.batch_workers = workers
            await workers.start()
            stack.push_async_callback(workers.stop)
            yield

    app = Litestar(
        route_handlers=[ExtractionController, BatchController, HealthController],
        lifespan=[services],
        exception_handlers=exception_handlers(),
        openapi_config=openapi_config(),
        request_max_body_size=settings.max_body_bytes,
        logging_config=LoggingConfig(
            root={"level": settings.log_level, "handlers": ["queue_listener"]},
            # One line per LLM call from httpx is noise, and costs time on every request.
            loggers={"httpx": {"level": "WARNING"}, "httpcore": {"level": "WARNING"}},
            log_exceptions="debug",
        ),
        debug=False,
    )
    drop_generic_validation_responses(app.openapi_schema)
    return app


app = create_app()
