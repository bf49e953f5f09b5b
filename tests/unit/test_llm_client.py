"""The LLM module's adjustment to instructor keeps instructor's guarantee at a fraction of the cost."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from pydantic import BaseModel

from factline.llm import once_per_class

async_validators = importlib.import_module("instructor.v2.validation.async_validators")


class WithAsyncValidator(BaseModel):
    name: str

    @async_validators.async_field_validator("name")
    async def check_name(self, value: str) -> str:
        return value


class Plain(BaseModel):
    name: str


def test_instructor_still_refuses_async_validators_every_time() -> None:
    check = async_validators.reject_async_validators
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
