"""factline.llm's shortcuts through instructor and the OpenAI SDK keep their guarantees, cheaper."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import openai
import pytest
from aiohttp import web
from instructor.v2.validation.async_validators import async_field_validator
from openai._models import construct_type
from openai.types.chat import ChatCompletion
from pydantic import BaseModel
from pytest_httpx import HTTPXMock

from factline.errors import LLMError
from factline.llm import CallLog, LLMClient, _completion, once_per_class
from factline.local_llm import free_port
from factline.recording import RecordingTransport
from tests.conftest import COMPLETIONS_URL, LLM_BASE_URL, make_settings

async_validators = importlib.import_module("instructor.v2.validation.async_validators")
instructor_patch = importlib.import_module("instructor.v2.core.patch")


class WithAsyncValidator(BaseModel):
    name: str

    @async_field_validator("name")
    async def check_name(self, value: str) -> str:
        return value


class Plain(BaseModel):
    name: str


@pytest.mark.parametrize("module", [async_validators, instructor_patch], ids=lambda m: m.__name__)
def test_instructor_still_refuses_async_validators_every_time(module: Any) -> None:
    """Both the function instructor imports at call time and the name `patch` bound at import."""
    check = module.reject_async_validators
    assert check.__name__ == "reject_async_validators_once"
    for _ in range(2):  # a refused class is never remembered as checked
        with pytest.raises(ValueError, match="async validators"):
            check(WithAsyncValidator)


def test_instructor_starts_its_usage_total_flat() -> None:
    """Nothing nested to deep-copy into every response; the tokens add up as before (the re-ask
    billing test sums two calls' usage through it)."""
    total = importlib.import_module("instructor.v2.core.retry")._initialize_usage(None)
    flat = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    assert total.model_dump(exclude_none=True) == flat


def test_a_class_that_passes_is_checked_once_generics_every_time() -> None:
    seen: list[Any] = []
    check = once_per_class(seen.append)
    check(Plain)
    check(Plain)
    check(list[Plain])
    check(list[Plain])
    assert seen == [Plain, list[Plain], list[Plain]]


RECORDED = sorted((Path(__file__).parents[2] / "fixtures" / "llm").glob("*.json"))


def _answer(body: bytes) -> httpx.Response:
    return httpx.Response(200, content=body, request=httpx.Request("POST", "http://llm/v1/chat/completions"))


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
def test_recorded_answers_read_as_the_sdk_reads_them(path: Path) -> None:
    for exchange in json.loads(path.read_text("utf-8"))["exchanges"]:
        answer = exchange["response"]["json"]
        # Typed to return `object`; given a model class it builds that model (as the SDK casts it).
        sdk = cast(ChatCompletion, construct_type(type_=ChatCompletion, value=answer))
        assert _completion(_answer(json.dumps(answer).encode())).model_dump() == sdk.model_dump()


def test_an_answer_outside_the_sdk_types_is_read_leniently() -> None:
    """Some OpenAI-compatible servers leave out fields or name their own finish reasons."""
    lax = {
        "choices": [{"index": 0, "finish_reason": "eos", "message": {"role": "assistant", "content": "{}"}}]
    }
    completion = _completion(_answer(json.dumps(lax).encode()))
    assert completion.choices[0].message.content == "{}"
    # Deliberately outside the SDK's Literal of finish reasons: read as the server sent it.
    assert completion.choices[0].finish_reason == "eos"  # type: ignore[comparison-overlap]


@pytest.mark.parametrize("body", [b"<html>Bad gateway</html>", b"[1, 2]", b""], ids=["html", "list", "empty"])
def test_an_answer_that_is_no_json_object_is_an_api_error(body: bytes) -> None:
    with pytest.raises(openai.APIResponseValidationError, match="not a JSON object"):
        _completion(_answer(body))


class Named(BaseModel):
    name: str


NAMED = '{"name": "Ada"}'


def _named_answer(_: httpx.Request) -> httpx.Response:
    answer = {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 0,
        "model": "m",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": '{"name": "Ada"}'},
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }
    return httpx.Response(200, json=answer)


async def test_the_llm_receives_the_request_the_sdk_would_send(httpx_mock: HTTPXMock) -> None:
    """Built once from the SDK's own URL, headers and key; a transport retry re-sends the same request,
    idempotency key included, and every call has a key of its own."""
    httpx_mock.add_response(url=COMPLETIONS_URL, status_code=503, headers={"retry-after": "0"})
    httpx_mock.add_callback(_named_answer, url=COMPLETIONS_URL, is_reusable=True)
    llm = LLMClient(make_settings(llm_api_key="sk-test", llm_max_retries=1))
    for _ in range(2):
        answer = await llm.complete([{"role": "user", "content": "Who?"}], Named, CallLog())
        assert answer.name == "Ada"
    await llm.aclose()
    first, retried, second = httpx_mock.get_requests(url=COMPLETIONS_URL)
    sdk = openai.AsyncOpenAI(base_url=LLM_BASE_URL, api_key="sk-test")
    for request in (first, retried, second):
        assert request.headers["authorization"] == "Bearer sk-test"
        assert request.headers["user-agent"] == sdk.user_agent
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content)["model"] == "qwen2.5-coder-1.5b-instruct-q4_k_m"
    assert retried.headers["idempotency-key"] == first.headers["idempotency-key"]
    assert second.headers["idempotency-key"] != first.headers["idempotency-key"]


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (429, openai.RateLimitError),
        (500, openai.InternalServerError),
    ],
)
async def test_an_error_answer_is_the_sdks_error(
    httpx_mock: HTTPXMock, status: int, error: type[openai.APIStatusError]
) -> None:
    httpx_mock.add_response(url=COMPLETIONS_URL, status_code=status, json={"error": {"message": "no"}})
    llm = LLMClient(make_settings())
    with pytest.raises(LLMError) as raised:
        await llm.complete([{"role": "user", "content": "Who?"}], Named, CallLog())
    await llm.aclose()
    cause: BaseException | None = raised.value
    while cause is not None and not isinstance(cause, openai.APIStatusError):
        cause = cause.__cause__
    assert isinstance(cause, error)
    assert type(cause) is error
    assert cause.status_code == status


@pytest.mark.parametrize("http_client", ["httpx", "aiohttp"])
async def test_a_cookie_the_endpoint_sets_goes_back_on_later_calls(http_client: str) -> None:
    """A gateway's sticky-session cookie, as the SDK's own client would send it; none before it is set."""
    seen: list[str | None] = []

    async def gateway(request: web.Request) -> web.Response:
        seen.append(request.headers.get("cookie"))
        answer = _named_answer(httpx.Request("POST", str(request.url))).json()
        response = web.json_response(answer)
        if len(seen) == 1:
            response.set_cookie("route", "replica-2")
        return response

    app = web.Application()
    app.router.add_post("/v1/chat/completions", gateway)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    llm = LLMClient(make_settings(llm_base_url=f"http://127.0.0.1:{port}/v1", llm_http_client=http_client))
    try:
        for _ in range(3):
            answer = await llm.complete([{"role": "user", "content": "Who?"}], Named, CallLog())
            assert answer.name == "Ada"
    finally:
        await llm.aclose()
        await runner.cleanup()
    assert seen == [None, "route=replica-2", "route=replica-2"]


# What the mock transport gives next: an answer, or a function of the request making one.
Answer = httpx.Response | Callable[[httpx.Request], httpx.Response]


async def test_a_recording_holds_the_answer_that_ended_the_call_not_the_retried_error() -> None:
    answers: Iterator[Answer] = iter(
        [httpx.Response(503, headers={"retry-after": "0"}, text="busy"), _named_answer]
    )
    recorder = RecordingTransport(httpx.MockTransport(lambda request: _next_answer(answers, request)))
    llm = LLMClient(make_settings(llm_max_retries=1), recorder)
    answer = await llm.complete([{"role": "user", "content": "Who?"}], Named, CallLog())
    await llm.aclose()
    assert answer.name == "Ada"
    [exchange] = recorder.exchanges
    assert exchange["request"]["path"] == "/v1/chat/completions"
    assert exchange["request"]["json"]["messages"] == [{"role": "user", "content": "Who?"}]
    assert exchange["response"]["status_code"] == 200
    assert exchange["response"]["json"]["choices"][0]["message"]["content"] == NAMED


def _next_answer(answers: Iterator[Answer], request: httpx.Request) -> httpx.Response:
    answer = next(answers)
    return answer(request) if callable(answer) else answer
