"""The LLM module's adjustment to instructor keeps instructor's guarantee at a fraction of the cost."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from pydantic import BaseModel

from factline.llm import once_per_class

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
