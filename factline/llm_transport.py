"""Transport retries for LLM calls, in one place: under the OpenAI client (whose own retries are off)
and under instructor (whose re-asks are not transport retries: they send a new request carrying the
validation errors of an answer that arrived).

A retry re-sends the same HTTP request after a 429, 408, 500, 502, 503 or 504 answer or a broken
connection, waiting the provider's Retry-After when it gives one, else an exponential backoff with
full jitter. No attempt starts that could not begin within the total time budget; then the last
answer (or error) goes up as it was, and becomes the client's 429/502/503/504 problem. A read timeout
is not retried: the call already spent its whole time allowance.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import aiohttp
import httpx
from httpx_aiohttp.transport import AiohttpTransport
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
    stop_any,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from factline.settings import Settings

logger = logging.getLogger("factline.llm")

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
RETRYABLE_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
MAX_BACKOFF_SECONDS = 30.0


def retry_after_seconds(response: httpx.Response) -> float | None:
    """Retry-After in seconds, when given as a number (an HTTP date is rare from LLM providers)."""
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class RetryingTransport(httpx.AsyncBaseTransport):
    """Wraps the real transport; each call to it is one LLM request, retried within its budget."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        *,
        max_retries: int,
        budget_seconds: float,
        backoff_seconds: float,
        on_attempt: Callable[[httpx.Request], None] | None = None,
    ) -> None:
        """`on_attempt` sees every request sent, retries included (they are counted as such)."""
        self._inner = inner
        self._on_attempt = on_attempt
        self.max_retries = max_retries
        self.budget_seconds = budget_seconds
        self._backoff = wait_random_exponential(multiplier=backoff_seconds, max=MAX_BACKOFF_SECONDS)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """The first attempt goes out on its own: tenacity's bookkeeping around an attempt that needs
        no retry was ~4 % of an extraction's CPU under load. Retries are tenacity's, and it is handed
        the first attempt's outcome as its own first attempt."""
        started = time.monotonic()
        first: httpx.Response | Exception
        try:
            first = await self._send(request)
        except RETRYABLE_ERRORS as error:
            first = error
        else:
            if not _retryable(first):
                return first
        replayed: httpx.Response | Exception | None = first

        async def attempt() -> httpx.Response:
            nonlocal replayed
            if replayed is None:
                return await self._send(request)
            outcome, replayed = replayed, None
            if isinstance(outcome, Exception):
                raise outcome
            return outcome

        budget_left = self.budget_seconds - (time.monotonic() - started)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(RETRYABLE_ERRORS) | retry_if_result(_retryable),
            wait=self._wait,
            stop=stop_any(stop_after_attempt(self.max_retries + 1), _StopOverBudget(budget_left)),
            before_sleep=_log_retry,
            retry_error_callback=_last_outcome,
            reraise=True,
        )
        response: httpx.Response = await retrying(attempt)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def _send(self, request: httpx.Request) -> httpx.Response:
        if self._on_attempt is not None:
            self._on_attempt(request)
        response = await self._inner.handle_async_request(request)
        if response.status_code not in RETRYABLE_STATUSES:
            return response
        # An error answer is small: read it, so the connection is free for the retry and the answer
        # can still go up intact if it is the last one.
        body = await response.aread()
        await response.aclose()
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        if outcome is not None and not outcome.failed:
            after = retry_after_seconds(outcome.result())
            if after is not None:
                return after
        return float(self._backoff(state))


class _StopOverBudget(stop_base):
    """Stop when waiting for the next attempt would end past the budget."""

    def __init__(self, budget_seconds: float) -> None:
        self.budget_seconds = budget_seconds

    def __call__(self, state: RetryCallState) -> bool:
        return (state.seconds_since_start or 0.0) + state.upcoming_sleep > self.budget_seconds


def _retryable(response: httpx.Response) -> bool:
    return response.status_code in RETRYABLE_STATUSES


def _last_outcome(state: RetryCallState) -> httpx.Response:
    """Out of attempts or budget: the last answer goes up as it was (or its error is raised)."""
    assert state.outcome is not None
    response: httpx.Response = state.outcome.result()
    return response


def _log_retry(state: RetryCallState) -> None:
    outcome = state.outcome
    what = (
        f"HTTP {outcome.result().status_code}"
        if outcome is not None and not outcome.failed
        else type(outcome.exception()).__name__
        if outcome is not None
        else "?"
    )
    logger.warning(
        "LLM call attempt %d failed (%s); retrying in %.2f s",
        state.attempt_number,
        what,
        state.upcoming_sleep,
    )


class AiohttpLLMTransport(AiohttpTransport):
    """aiohttp under httpx, with broken connections reported as such.

    httpx-aiohttp 0.2 maps every aiohttp connection error to `ConnectTimeout`, so a reset or a
    connection the server dropped would read as a timeout (504) instead of an unreachable endpoint
    (503). Only a real timeout stays one.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.ConnectTimeout as error:
            if isinstance(error.__cause__, TimeoutError | aiohttp.ServerTimeoutError):
                raise
            raise httpx.ReadError(str(error), request=request) from error.__cause__


def connection_transport(settings: Settings) -> httpx.AsyncBaseTransport:
    """The transport that holds the connections to the LLM endpoint, as the settings choose it."""
    limits = httpx.Limits(max_connections=settings.llm_max_concurrency * 2)
    if settings.llm_http_client == "aiohttp":
        return AiohttpLLMTransport(limits=limits)
    return httpx.AsyncHTTPTransport(limits=limits)
