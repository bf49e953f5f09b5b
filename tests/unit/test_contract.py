"""The contracts' bases: records serialised once; closed sets of strings, enums in Python and plain
strings in JSON."""

from __future__ import annotations

import gc

from pydantic import BaseModel

from schemas import Extraction, Usage
from schemas.contract import _WRITTEN, Choice
from schemas.extraction import MatchKind, QuoteKind


class Colour(Choice):
    RED = "red"
    BLUE = "blue"


class Paint(BaseModel):
    colour: Colour
    colours: list[Colour] = []


def test_written_to_json_as_the_members_string_and_read_back_as_the_member() -> None:
    paint = Paint(colour=Colour.BLUE, colours=[Colour.RED, Colour.BLUE])

    assert paint.model_dump_json() == '{"colour":"blue","colours":["red","blue"]}'
    assert paint.model_dump(mode="json") == {"colour": "blue", "colours": ["red", "blue"]}
    assert Paint.model_validate_json(paint.model_dump_json()).colour is Colour.BLUE


def test_python_dumps_keep_the_member() -> None:
    assert Paint.model_validate({"colour": "red"}).model_dump()["colour"] is Colour.RED


def test_the_json_schema_lists_the_members_in_both_modes() -> None:
    for mode in ("validation", "serialization"):
        schema = Paint.model_json_schema(mode=mode)
        assert schema["$defs"]["Colour"] == {"enum": ["red", "blue"], "title": "Colour", "type": "string"}


def test_the_response_contracts_use_it() -> None:
    definitions = Extraction.model_json_schema(mode="serialization")["$defs"]

    assert definitions["MatchKind"]["enum"] == [kind.value for kind in MatchKind]
    assert definitions["QuoteKind"]["enum"] == [kind.value for kind in QuoteKind]
    assert issubclass(MatchKind, Choice)


def test_a_record_is_serialised_once_and_its_copies_for_themselves() -> None:
    usage = Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3, llm_calls=1)
    written = usage.json_bytes()

    assert written == usage.model_dump_json().encode()
    assert usage.json_bytes() is written
    copy = usage.model_copy(update={"llm_calls": 2})
    assert copy.json_bytes() == copy.model_dump_json().encode() != written


def test_a_records_json_goes_with_it() -> None:
    held = len(_WRITTEN)
    usage = Usage(prompt_tokens=1, completion_tokens=2, total_tokens=3, llm_calls=1)
    usage.json_bytes()
    assert len(_WRITTEN) == held + 1
    del usage
    gc.collect()
    assert len(_WRITTEN) == held
