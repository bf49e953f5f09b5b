"""Liveness and readiness probes."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec

from api.access import PUBLIC
from api.problems import ALWAYS_POSSIBLE, OPEN_ROUTE, problem_responses
from factline.cache import CachingExtractor
from schemas import CircuitStatus, HealthStatus, LLMStatus, ReadinessStatus


class HealthController(Controller):
    tags = ["operations"]

    @get(
        "/health",
        operation_id="getHealth",
        summary="Whether the process is up",
        description="Needs no API key, for probes.",
        responses=problem_responses(*OPEN_ROUTE),
        opt={PUBLIC: True},
        security=[{}],
    )
    async def health(self) -> HealthStatus:
        return HealthStatus(status="ok")

    @get(
        "/ready",
        operation_id="getReadiness",
        summary="Whether the configured LLM endpoint answers",
        description="200 when extraction can run; 503 with the same body when it cannot, saying why: "
        "no LLM, no answer to the probe, or calls paused by the circuit breaker.",
        responses={
            503: ResponseSpec(
                data_container=ReadinessStatus, description="No LLM configured, or it does not answer."
            ),
            **problem_responses(*ALWAYS_POSSIBLE),
        },
    )
    async def ready(self, state: State) -> Response[ReadinessStatus]:
        extractor: CachingExtractor = state.extractor
        reachable, detail = await extractor.llm.probe()
        circuit = extractor.llm.circuit_state()
        ready = reachable and circuit.state != "open"
        status = ReadinessStatus(
            status="ready" if ready else "not_ready",
            llm=LLMStatus(
                configured=extractor.llm.configured,
                reachable=reachable,
                model=extractor.llm.model if extractor.llm.configured else None,
                detail=detail,
                circuit=CircuitStatus(
                    state=circuit.state,
                    consecutive_failures=circuit.consecutive_failures,
                    retry_after=circuit.retry_after,
                ),
            ),
        )
        return Response(status, status_code=200 if ready else 503)
