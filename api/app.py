"""The ASGI application: `api.app:app`, built by `create_app()`; and `run_workers()`, the same batch
workers without HTTP, for `factline worker`."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import msgspec
from litestar import Litestar
from litestar.config.cors import CORSConfig
from pydantic import BaseModel

from api.access import ApiKeys
from api.batches import BatchController
from api.extractions import ExtractionController
from api.health import HealthController
from api.metrics import MetricsController, metrics_middleware
from api.openapi import finish_document, openapi_config
from api.problems import exception_handlers, problem_for
from api.query_params import screen_request
from api.rate_limit import STORE, rate_limit
from api.request_id import RequestIdMiddleware
from api.viewer import ViewerController
from api.views import ViewController
from factline import heap
from factline.batch_store import BatchStore
from factline.batch_workers import BatchWorkers
from factline.cache import CachingExtractor
from factline.database import (
    blocking_reader,
    create_engine,
    lookup_pool,
    sessions,
    upgrade_to_head,
)
from factline.extraction import Extractor
from factline.llm import LLMClient
from factline.local_llm import LOCAL_MODELS, LocalSetup, run_local_server
from factline.prompting import shared_prefix
from factline.settings import Settings, get_settings
from factline.view_queries import CrossArticleViews
from factline.wal_checkpoints import checkpointing
from factline.worker_lifecycle import Workers, batch_jobs
from schemas.contract import Contract

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
                warm_prefix=shared_prefix(settings.local_call_plan),
            )
        )
    except (OSError, RuntimeError) as error:
        # The service still serves (probes, docs, clear 503s) when its embedded model cannot start.
        reason = f"The embedded model {model.name} failed to start: {error}"
        logger.error(reason)
        return settings, reason
    logger.info("embedded LLM ready at %s", server.base_url)
    return settings.for_local_server(server.base_url), None


@dataclass(frozen=True)
class Services:
    settings: Settings
    extractor: CachingExtractor
    batch_store: BatchStore
    batch_workers: Workers


async def open_services(settings: Settings, stack: AsyncExitStack) -> Services:
    """What a process needs to extract: one LLM client (and the embedded server if used), the database
    brought to the newest schema, the batch store and its workers (not started); closed by `stack`."""
    effective, unavailable_reason = await _llm_settings(settings, stack)
    llm = LLMClient(effective, unavailable_reason=unavailable_reason)
    stack.push_async_callback(llm.aclose)
    engine = create_engine(
        settings.database_url, batch_jobs(settings.batch_concurrency), checkpoints_elsewhere=True
    )
    stack.push_async_callback(engine.dispose)
    await upgrade_to_head(engine)
    stack.enter_context(checkpointing(settings.database_url))
    reader = blocking_reader(settings.database_url)
    if reader is not None:
        stack.callback(reader.close)
    lookups = await lookup_pool(settings.database_url)
    if lookups is not None:
        stack.push_async_callback(lookups.close)
    extractor = Extractor(llm, effective)
    # Loaded off the loop while the rest starts, and waited for before the service takes requests:
    # loading at the first long article stalled it, and every request behind it, ~0.5 s.
    loading = asyncio.create_task(asyncio.to_thread(extractor.tokens.prepare))
    stack.push_async_callback(asyncio.wait, [loading])
    caching = CachingExtractor(extractor, sessions(engine), reader, lookups)
    stack.push_async_callback(caching.aclose)
    workers: Workers
    if settings.uses_procrastinate:
        # Imported here: procrastinate and psycopg take ~11 MB that a SQLite service never needs.
        from factline.procrastinate_queue import ProcrastinateWorkers, defer_item_jobs

        store = BatchStore(sessions(engine), settings.batch_lease_seconds, on_queued=defer_item_jobs)
        workers = ProcrastinateWorkers(
            settings.database_url,
            store,
            caching,
            problem_for,
            concurrency=settings.batch_concurrency,
            lease_seconds=settings.batch_lease_seconds,
        )
    else:
        store = BatchStore(sessions(engine), settings.batch_lease_seconds)
        workers = BatchWorkers(
            store,
            caching,
            problem_for,
            concurrency=settings.batch_concurrency,
            lease_seconds=settings.batch_lease_seconds,
            poll_seconds=settings.batch_poll_seconds,
        )
    await loading
    return Services(settings, caching, store, workers)


async def run_workers(settings: Settings) -> None:
    """Batch workers only, until SIGTERM or SIGINT: then the items they hold go back to the queue at
    once, instead of waiting for their leases to run out."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    async with AsyncExitStack() as stack:
        workers = (await open_services(settings, stack)).batch_workers
        heap.settle()
        await workers.start()
        stack.push_async_callback(workers.stop)
        queue = "procrastinate" if settings.uses_procrastinate else "database"
        logger.info("batch worker running %d at a time (%s queue)", settings.batch_concurrency, queue)
        await stop.wait()
        logger.info("batch worker stopping")
    logger.info("batch worker stopped")


def create_app(settings: Settings | None = None, *, settle_heap: bool = False) -> Litestar:
    """`settle_heap` for the app a process serves (`api.app:app`): once started, its heap is settled
    (`factline.heap`). Not for apps built by the dozen in one test process, whose frozen garbage would
    pile up."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def services(app: Litestar) -> AsyncIterator[None]:
        """For the process: the services, and the batch workers unless dedicated processes run them."""
        async with AsyncExitStack() as stack:
            opened = await open_services(settings, stack)
            if settle_heap:
                heap.settle()
            app.state.settings = settings
            app.state.extractor = opened.extractor
            app.state.batch_store = opened.batch_store
            app.state.views = CrossArticleViews(opened.batch_store.sessions)
            # Without in-process workers, `wake()` is a no-op: worker processes poll the database.
            app.state.batch_workers = opened.batch_workers
            if settings.batch_workers_in_process:
                await opened.batch_workers.start()
                stack.push_async_callback(opened.batch_workers.stop)
                stack.enter_context(opened.batch_workers.stopping_on_sigterm())
            yield

    keys = ApiKeys(settings.api_key_sha256)
    limited = rate_limit(settings, keys)
    app = Litestar(
        route_handlers=[
            ExtractionController,
            BatchController,
            ViewController,
            HealthController,
            ViewerController,
            MetricsController,
        ],
        lifespan=[services],
        before_request=screen_request,
        # Without keys there is nothing to check: litestar copies the route handler for every guard it
        # runs (~13 µs of each request's CPU).
        guards=[keys.guard()] if keys.required else [],
        middleware=[metrics_middleware(), *([limited[0].middleware] if limited else [])],
        stores={STORE: limited[1]} if limited else None,
        cors_config=CORSConfig(allow_origins=settings.cors_allow_origins)
        if settings.cors_allow_origins
        else None,
        exception_handlers=exception_handlers(),
        type_encoders={BaseModel: encode_model},
        openapi_config=openapi_config(),
        request_max_body_size=settings.max_body_bytes,
        # The serving process configures logging (factline.logs), not the app.
        logging_config=None,
        debug=False,
    )
    finish_document(app.openapi_schema)
    app.asgi_handler = RequestIdMiddleware(app.asgi_handler)
    return app


def encode_model(model: BaseModel) -> msgspec.Raw:
    """A response model serialised by pydantic-core straight to JSON, spliced in by msgspec as it is;
    a record once (`Contract.json_bytes`: an extraction's cache row is the same JSON).

    litestar's default, `model_dump()` to Python objects that msgspec then encodes, builds every dict
    and list of a result twice: ~0.4 ms of a 16 KB extraction's 2.5 ms served from the cache."""
    if isinstance(model, Contract):
        return msgspec.Raw(model.json_bytes())
    return msgspec.Raw(model.__pydantic_serializer__.to_json(model))


app = create_app(settle_heap=True)
