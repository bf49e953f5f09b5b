"""The bases of every response model and of the closed sets of strings they use."""

from __future__ import annotations

import weakref
from enum import StrEnum
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema


class Contract(BaseModel):
    """Response models are immutable records; unknown fields are a bug, not data."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def json_bytes(self) -> bytes:
        """This record as JSON, serialised once however often it is written.

        An extraction is written to its response and, 50 ms later, to its cache row: serialised again
        then, its objects no longer in the CPU's caches, that took ~0.35 ms of an extraction's ~4 ms
        under load. The record is frozen, so the first serialisation holds while it lives (the one
        change made to records in place, `in_text_order`'s numbering, ends before anything writes them).
        """
        key = id(self)
        if (entry := _WRITTEN.get(key)) is not None:
            return entry[1]
        written = self.__pydantic_serializer__.to_json(self)
        _WRITTEN[key] = (weakref.ref(self, lambda _: _WRITTEN.pop(key, None)), written)
        return written


# Each live record's JSON by the record's id; an entry goes when its record does (the weak reference's
# callback runs before the record's memory, and so its id, can be reused).
_WRITTEN: dict[int, tuple[weakref.ref[Contract], bytes]] = {}


class Choice(StrEnum):
    """A closed set of strings, validated as an enum and written to JSON as the string each member is.

    pydantic-core writes an enum through its `value`, which `enum` serves with two Python calls per
    member: 127 of them in a 4 KB article's extraction, a quarter of its serialisation (0.07 ->
    0.05 ms), paid for the response and again for its cache row.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: type[Any], handler: GetCoreSchemaHandler) -> CoreSchema:
        serialization = core_schema.to_string_ser_schema(when_used="json")
        return cast(CoreSchema, {**handler(source), "serialization": serialization})

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The members' strings in either mode: what is written is what is read."""
        return handler({key: value for key, value in schema.items() if key != "serialization"})
