"""factline.llm's shortcuts through instructor and the OpenAI SDK keep their guarantees, cheaper."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai._models import construct_type
from openai.types.chat import ChatCompletion
from pydantic import BaseModel

from factline.llm import _completion, once_per_class

async_validators = importlib.import_module("instructor.v2.validation.async_validators")
instructor_patch = importlib.import_module("instructor.v2.core.patch")


class WithAsyncValidator(BaseModel):
    name: str

    @async_validators.async_field_validator("name")
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
        sdk = construct_type(type_=ChatCompletion, value=answer)
        assert _completion(_answer(json.dumps(answer).encode())).model_dump() == sdk.model_dump()


def test_an_answer_outside_the_sdk_types_is_read_leniently() -> None:
    """Some OpenAI-compatible servers leave out fields or name their own finish reasons."""
    lax = {
        "choices": [{"index": 0, "finish_reason": "eos", "message": {"role": "assistant", "content": "{}"}}]
    }
    completion = _completion(_answer(json.dumps(lax).encode()))
    assert completion.choices[0].message.content == "{}"
    assert completion.choices[0].finish_reason == "eos"


@pytest.mark.parametrize("body", [b"<html>Bad gateway</html>", b"[1, 2]", b""], ids=["html", "list", "empty"])
def test_an_answer_that_is_no_json_object_is_an_api_error(body: bytes) -> None:
    with pytest.raises(openai.APIResponseValidationError, match="not a JSON object"):
        _completion(_answer(body))
