"""GET /metrics in Prometheus' text format: HTTP requests by route and status (litestar's middleware),
and what `factline.metrics` counts. Left out of openapi.json: it is for scrapers, not API clients."""

from __future__ import annotations

import os

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.middleware.base import DefineMiddleware
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from factline.batch_store import BatchStore
from factline.metrics import record_queue_depth


def metrics_middleware() -> DefineMiddleware:
    """Request counts and latencies labelled with the route template, not the raw path (one series
    per route, whatever the ids), by method and status."""
    return PrometheusConfig(
        app_name="factline", prefix="factline", group_path=True, exclude=["/metrics"]
    ).middleware


class MetricsController(Controller):
    path = "/metrics"
    include_in_schema = False

    @get()
    async def metrics(self, state: State) -> Response[bytes]:
        store: BatchStore = state.batch_store
        record_queue_depth(*await store.queue_depth())
        registry = REGISTRY
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})
