"""The closed sets of strings in the contracts: enums in Python, their plain strings in JSON."""

from __future__ import annotations

from pydantic import BaseModel

from schemas import Extraction
from schemas.contract import Choice
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
