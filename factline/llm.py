"""The one place that talks to the LLM: an OpenAI-compatible client wrapped by instructor.

Two kinds of repeat, each in one layer. Transport retries (429, 5xx, broken connections) re-send the
same request: `RetryingTransport` under the OpenAI client, whose own retries are off. Re-asks send a
new request with the validation errors of output that arrived but broke the schema: instructor, for
parse errors only. A circuit breaker stops calls to an endpoint that keeps failing. Every failure
leaves as one of factline's own errors, carrying the tokens of every attempt.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import math
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from typing import Any, TypeVar, cast

import httpx
import instructor
import msgspec
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError

from factline.circuit_breaker import CircuitBreaker, CircuitOpen, CircuitSnapshot
from factline.errors import (
    LLMCircuitOpen,
    LLMError,
    LLMNotConfigured,
    LLMOutputUnusable,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
)
from factline.llm_transport import RetryingTransport, connection_transport, retry_after_seconds
from factline.metrics import record_llm_call
from factline.settings import Settings
from schemas import Usage

ModelT = TypeVar("ModelT", bound=BaseModel)

_MODES = {
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "tools": instructor.Mode.TOOLS,
    "json": instructor.Mode.JSON,
}


@dataclass
class CallLog:
    """Tokens and completions of one extraction, every attempt included."""

    calls: int = 0
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    errors: list[str] = field(default_factory=list)
    refusal: str | None = None
    sent: asyncio.Event = field(default_factory=asyncio.Event)  # set when the first request goes out

    def usage(self) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens,
            completion_tokens=self.completion_tokens,
            total_tokens=self.prompt_tokens + self.completion_tokens,
            llm_calls=self.calls,
        )

    def record(self, completion: Any) -> None:
        self.calls += 1
        choices = getattr(completion, "choices", None) or []
        if choices and (refusal := getattr(choices[0].message, "refusal", None)):
            self.refusal = str(refusal)[:500]
        if usage := getattr(completion, "usage", None):
            self.prompt_tokens += usage.prompt_tokens or 0
            self.completion_tokens += usage.completion_tokens or 0


_current_log: ContextVar[CallLog | None] = ContextVar("factline_llm_call_log", default=None)
_holding_slot: ContextVar[bool] = ContextVar("factline_llm_slot_held", default=False)
_caller_slot: ContextVar[Callable[[], AbstractAsyncContextManager[object]] | None] = ContextVar(
    "factline_llm_caller_slot", default=None
)


@contextmanager
def turns_also_taking(slot: Callable[[], AbstractAsyncContextManager[object]]) -> Iterator[None]:
    """LLM turns of the current task (and of tasks it starts) inside the block first take `slot()`: a
    caller's own bound on its calls, held for the calls only, not for the work around them."""
    token = _caller_slot.set(slot)
    try:
        yield
    finally:
        _caller_slot.reset(token)


def _record_completion(completion: Any) -> None:
    if (log := _current_log.get()) is not None:
        log.record(completion)


def _count_request(request: httpx.Request) -> None:
    """Every HTTP request to the completions endpoint, transport retries included, as it goes out."""
    if (log := _current_log.get()) is not None and request.url.path.endswith("/chat/completions"):
        log.requests += 1
        log.sent.set()


def _record_parse_error(error: Exception, **_: Any) -> None:
    if (log := _current_log.get()) is not None:
        log.errors.append(str(error)[:500])


def once_per_class(check: Callable[[Any], None]) -> Callable[[Any], None]:
    """`check` run once per class that passes it; anything else (a failing class, a generic) every time."""
    passed: weakref.WeakSet[type] = weakref.WeakSet()

    def check_once(response_model: Any) -> None:
        if isinstance(response_model, type) and response_model in passed:
            return
        check(response_model)
        if isinstance(response_model, type):
            passed.add(response_model)

    check_once.__name__ = f"{check.__name__}_once"
    return check_once


# instructor 1.17 (pinned) walks every member of every class of the response model to refuse async
# validators, five times per call: 40 % of its CPU time per extraction here. Our models are fixed
# classes, so one check per class is the same guarantee. Fails at import if the function moves.
_async_validators = importlib.import_module("instructor.v2.validation.async_validators")
_check_once = once_per_class(_async_validators.reject_async_validators)
# `patch` bound the function by name when it was imported; the others import it at call time.
for _module in (_async_validators, importlib.import_module("instructor.v2.core.patch")):
    if not hasattr(_module, "reject_async_validators"):
        raise ImportError(f"{_module.__name__}.reject_async_validators moved: review factline.llm's patch")
    setattr(_module, "reject_async_validators", _check_once)  # noqa: B010

# instructor 1.17 starts each call's usage total with OpenAI's nested token details, then deep-copies
# the total into the response and its snapshots: ~60 copies a call, ~0.04 ms of CPU (10 % of the
# client's). factline reads each response's own tokens before instructor adds them up (`CallLog`, on
# "completion:response") and never reads its total, which a flat model sums all the same. factline
# calls OpenAI-compatible endpoints only (no Anthropic usage). Fails at import if the function moves.
_retry = importlib.import_module("instructor.v2.core.retry")
if not hasattr(_retry, "_initialize_usage"):
    raise ImportError("instructor.v2.core.retry._initialize_usage moved: review factline.llm's patch")


def _flat_usage_total(_: object) -> CompletionUsage:
    return CompletionUsage(prompt_tokens=0, completion_tokens=0, total_tokens=0)


setattr(_retry, "_initialize_usage", _flat_usage_total)  # noqa: B010


@cache
def _prepared(response_model: type[ModelT]) -> type[ModelT]:
    """instructor wraps a plain model anew on every call and regenerates its JSON schema; once is enough."""
    return cast(type[ModelT], instructor.response_schema(response_model))


_JSON = msgspec.json.Encoder()


def _chat_completions(
    client: openai.AsyncOpenAI, transport: httpx.AsyncBaseTransport, timeout: httpx.Timeout
) -> Callable[..., Awaitable[ChatCompletion]]:
    """`chat.completions.create` for instructor to call: one POST through `transport` (its retries
    included), its URL and headers built once from the SDK's own (base URL, default headers, bearer key).

    The typed method walks every parameter against the SDK's typed dicts to rename aliased keys (chat
    parameters have none): ~1.2 ms of CPU per call with the schema. Below it, the SDK's generic request
    pipeline copies the options twice and merges the URL and headers anew for every call, with hooks for
    providers and key rotation a static key does not use: 0.22 ms of CPU per call, 0.24 after an idle
    pause, of an overhead budget of 5 ms. Errors stay the SDK's, raised where its `request` raises them: its
    status error for an HTTP error answer, `APITimeoutError` or `APIConnectionError` for a failed
    exchange. Retries (off in the SDK) are the transport's, which re-sends this same request, idempotency
    key included. The body goes as bytes encoded by msgspec (the SDK's `json.dumps` of the article, the
    messages and the schema was 2.7 % of the service's CPU under load); the answer is read by `_completion`.

    No `httpx.AsyncClient` sits between: its `send` ran an auth flow, a redirect loop and the cookie
    jar's parsing of every answer for requests that need none of them (~0.07 ms of CPU per call). The
    cookies an endpoint sets are kept here and sent on the calls after, as the SDK's client does: a
    gateway's sticky-session cookie keeps an article's calls on the replica that holds its prompt cache.
    """
    url = client.base_url.copy_with(raw_path=client.base_url.raw_path + b"chat/completions")
    headers = {name: value for name, value in client.default_headers.items() if isinstance(value, str)}
    headers["Authorization"] = f"Bearer {client.api_key}"
    extensions = {"timeout": timeout.as_dict()}
    cookies = httpx.Cookies()

    async def create(**params: Any) -> ChatCompletion:
        body = {
            key: value
            for key, value in params.items()
            if not isinstance(value, openai.NotGiven | openai.Omit)
        }
        request = httpx.Request(
            "POST",
            url,
            headers={**headers, "Idempotency-Key": f"stainless-python-retry-{uuid.uuid4()}"},
            content=_JSON.encode(body),
            extensions=extensions,
        )
        if cookies:
            cookies.set_cookie_header(request)
        try:
            response = await _answer(transport, request)
        except httpx.TimeoutException as error:
            raise openai.APITimeoutError(request=request) from error
        except Exception as error:
            raise openai.APIConnectionError(request=request) from error
        if "set-cookie" in response.headers:
            cookies.extract_cookies(response)
        if response.is_error:
            raise client._make_status_error_from_response(response)  # the SDK's own mapping to its errors
        return _completion(response)

    return create


async def _answer(transport: httpx.AsyncBaseTransport, request: httpx.Request) -> httpx.Response:
    """The response to `request`, read whole: its connection goes back to the pool, even on an error."""
    response = await transport.handle_async_request(request)
    response.request = request
    try:
        await response.aread()
    finally:
        await response.aclose()
    return response


def _completion(response: httpx.Response) -> ChatCompletion:
    """The answer validated from its bytes by pydantic-core: the SDK decodes it to text, parses that and
    builds the `ChatCompletion` field by field in Python, ~20 % of the client's CPU per call. An answer
    that breaks the SDK's types (a lax OpenAI-compatible server) is built leniently, as the SDK does."""
    try:
        return ChatCompletion.model_validate_json(response.content)
    except ValidationError:
        pass
    try:
        data = json.loads(response.content)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise openai.APIResponseValidationError(
            response, response.text[:500], message="The LLM endpoint's answer is not a JSON object."
        )
    return ChatCompletion.construct(**data)


class LLMClient:
    """Structured completions against the configured endpoint, bounded in concurrency."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        unavailable_reason: str | None = None,
    ) -> None:
        """`transport` stands in for the endpoint's connections (a replay, a recording): under the
        transport retries all the same."""
        self.settings = settings
        self._unavailable_reason = unavailable_reason
        self.model = settings.llm_model
        timeout = httpx.Timeout(settings.llm_timeout_seconds, connect=settings.llm_connect_timeout_seconds)
        self._transport = RetryingTransport(
            transport or connection_transport(settings),
            max_retries=settings.llm_max_retries,
            budget_seconds=settings.llm_retry_budget_seconds,
            backoff_seconds=settings.llm_retry_backoff_seconds,
            on_attempt=_count_request,
        )
        # The readiness probe must say what it saw at once: no retries under it.
        self._probe_http = httpx.AsyncClient(timeout=5.0)
        self._openai: openai.AsyncOpenAI | None = None
        self._instructor: instructor.AsyncInstructor | None = None
        if settings.llm_configured:
            self._openai = openai.AsyncOpenAI(
                base_url=str(settings.llm_base_url) if settings.llm_base_url else None,
                api_key=settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed",
                max_retries=0,  # transport retries are RetryingTransport's alone
                timeout=5.0,  # the SDK's own requests are the probe's; calls carry their own timeout
                http_client=self._probe_http,
            )
            self._instructor = instructor.AsyncInstructor(
                client=self._openai,
                create=instructor.patch(
                    create=_chat_completions(self._openai, self._transport, timeout),
                    mode=_MODES[settings.llm_mode],
                ),
                mode=_MODES[settings.llm_mode],
            )
            self._instructor.on("completion:response", _record_completion)
            self._instructor.on("parse:error", _record_parse_error)
        self._slots = asyncio.Semaphore(settings.llm_max_concurrency)
        self.circuit = CircuitBreaker(
            settings.llm_circuit_failure_threshold, settings.llm_circuit_cooldown_seconds
        )

    @property
    def configured(self) -> bool:
        return self._instructor is not None

    async def aclose(self) -> None:
        await self._transport.aclose()
        await self._probe_http.aclose()

    def circuit_state(self) -> CircuitSnapshot:
        return self.circuit.snapshot()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """One of the `llm_max_concurrency` slots, held for the calls made inside the block (after the
        caller's own slot, if it has one: `turns_also_taking`).

        An article's calls (one per type) share its text as a prefix. Sent back to back, the server
        processes that prefix once; interleaved with other articles' calls, a one-slot server (the
        embedded model) evicted it each time and processed the article again for every call.
        """
        if _holding_slot.get():
            yield
            return
        caller_slot = _caller_slot.get()
        async with caller_slot() if caller_slot is not None else nullcontext(), self._slots:
            token = _holding_slot.set(True)
            try:
                yield
            finally:
                _holding_slot.reset(token)

    async def complete(
        self, messages: list[dict[str, str]], response_model: type[ModelT], log: CallLog
    ) -> ModelT:
        """One structured completion; `log` receives the tokens of every attempt, failed ones too."""
        if self._instructor is None:
            raise LLMNotConfigured(self._unavailable_reason)
        try:
            probe = self.circuit.before_call()
        except CircuitOpen as error:
            raise LLMCircuitOpen(error.retry_after).with_usage(log.usage()) from error
        token = _current_log.set(log)
        before = (log.requests, log.calls, log.prompt_tokens, log.completion_tokens)
        transport_failed = False
        try:
            async with self.turn():
                result = await self._instructor.chat.completions.create(
                    model=self.model,
                    messages=messages,  # type: ignore[arg-type]
                    response_model=_prepared(response_model),
                    max_retries=self.settings.llm_max_reasks,  # re-asks on parse errors only
                    temperature=self.settings.llm_temperature,
                    max_tokens=self.settings.llm_max_output_tokens,
                    seed=self.settings.llm_seed,
                )
        except InstructorRetryException as error:
            transport_failed = isinstance(error.__cause__, openai.APIError)
            raise self._failed(error.__cause__ or error, error, log, probe) from error
        except (openai.APIError, IncompleteOutputException) as error:
            transport_failed = isinstance(error, openai.APIError)
            raise self._failed(error, error, log, probe) from error
        except BaseException:
            self.circuit.record_abandoned(probe)
            raise
        finally:
            _current_log.reset(token)
            record_llm_call(
                requests=log.requests - before[0],
                completions=log.calls - before[1],
                prompt_tokens=log.prompt_tokens - before[2],
                completion_tokens=log.completion_tokens - before[3],
                transport_failed=transport_failed,
            )
        self.circuit.record_success()
        return cast(ModelT, result)

    def _failed(self, cause: BaseException, error: BaseException, log: CallLog, probe: bool) -> LLMError:
        """The client's error for a failed call; an endpoint that is down or broken counts against it."""
        if isinstance(cause, openai.APIConnectionError | openai.InternalServerError):
            self.circuit.record_failure(probe)
        else:  # it answered: rate limits, bad output and refusals say nothing against the endpoint
            self.circuit.record_success()
        return _translate(cause, error, log).with_usage(log.usage())

    async def probe(self) -> tuple[bool, str]:
        """Whether the endpoint answers a model listing, and what was seen."""
        if self._openai is None:
            return False, LLMNotConfigured(self._unavailable_reason).args[0]
        started = time.perf_counter()
        try:
            await self._openai.models.list()
        except openai.APIStatusError as error:
            return False, f"endpoint answered HTTP {error.status_code}"
        except openai.APIError as error:
            return False, f"endpoint unreachable: {type(error).__name__}"
        return True, f"endpoint answered in {(time.perf_counter() - started) * 1000:.0f} ms"


def _translate(cause: BaseException, error: BaseException, log: CallLog) -> LLMError:
    """Map a provider or instructor failure to what the client is told."""
    if isinstance(cause, openai.RateLimitError):
        after = retry_after_seconds(cause.response)
        return LLMRateLimited(
            "The LLM provider is rate-limiting requests.", math.ceil(after) if after is not None else None
        )
    if isinstance(cause, openai.APITimeoutError):
        return LLMTimeout("The LLM endpoint did not answer in time.")
    if isinstance(cause, openai.APIConnectionError):
        return LLMUnavailable("The LLM endpoint is unreachable.")
    if isinstance(cause, openai.APIStatusError) and cause.status_code == 503:
        return LLMUnavailable("The LLM endpoint answered HTTP 503: it is unavailable.")
    if isinstance(cause, openai.APIStatusError) and cause.status_code in (408, 504):
        return LLMTimeout(f"The LLM endpoint answered HTTP {cause.status_code}: it timed out.")
    if isinstance(cause, openai.APIStatusError):
        return LLMOutputUnusable(f"The LLM endpoint answered HTTP {cause.status_code}.")
    if isinstance(cause, IncompleteOutputException):
        return LLMOutputUnusable("The model's output was cut off at the output token limit.")
    attempts = getattr(error, "n_attempts", log.calls)
    if log.refusal:
        return LLMOutputUnusable(f"The model refused in {attempts} attempt(s): {log.refusal}")
    reason = log.errors[-1] if log.errors else str(cause)[:500]
    return LLMOutputUnusable(f"The model's output was unusable after {attempts} attempt(s): {reason}")
