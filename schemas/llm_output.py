"""The schema the model fills in: only what needs understanding, never what the service computes.

Offsets, ids, dates and grounding are the service's job. The model names actors by name and copies
short verbatim excerpts, which the service then finds in the text. The prompt explains every field,
so the schema sent with each request carries structure only: no titles, no descriptions (the
descriptions below are for readers of this code), no references: 1,063 → 659 tokens for every list.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from schemas.article import ItemType

# Small models squeezing text under a tight limit drop spaces and break verbatim matching; 300 is safe.
EXCERPT_MAX_CHARS = 300
QUOTE_MAX_CHARS = 1000
SHORT_TEXT_MAX_CHARS = 120
_NULL_WORDS = frozenset({"null", "None", "none", "N/A", "n/a", ""})
# Generous for a news article; they bound a small model that starts repeating itself.
MAX_ITEMS = {"actors": 8, "reported_quotes": 4, "events": 5, "positions": 3, "proposals": 3}
REPORTED_QUOTES = "reported_quotes"


def advised(**limits: int) -> Any:
    """Limits the schema advertises but validation does not enforce.

    Grammar-constrained servers (llama.cpp) enforce them, which stops a small model from looping;
    a model that writes more has still written facts, so nothing is rejected for length.
    """
    return Field(json_schema_extra=dict(limits))


Excerpt = Annotated[
    str,
    Field(description="Short verbatim excerpt of the article that states it."),
    advised(maxLength=EXCERPT_MAX_CHARS),
]
ShortText = Annotated[str, advised(maxLength=SHORT_TEXT_MAX_CHARS)]
ActorName = Annotated[
    str, Field(description="Name of an actor from `actors`."), advised(maxLength=SHORT_TEXT_MAX_CHARS)
]
NameList = Annotated[list[ActorName], advised(maxItems=4)]


class _ModelOutput(BaseModel):
    """Every field is required (strict structured-output modes demand it); the model writes null or []."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def null_words_are_null(cls, data: Any) -> Any:
        """Small models under a grammar write the string "null" where they mean null."""
        if isinstance(data, dict):
            return {
                key: None if isinstance(value, str) and value.strip() in _NULL_WORDS else value
                for key, value in data.items()
            }
        return data


class ModelActor(_ModelOutput):
    name: Annotated[ShortText, Field(description="Fullest name used in the article.")]
    kind: Literal["person", "organization", "country", "group", "other"]
    roles: Annotated[list[ShortText], Field(description="Titles and roles, as written."), advised(maxItems=2)]
    mentions: Annotated[
        list[ShortText],
        Field(
            description="Other ways the article refers to it, as written (surname, title, 'the minister')."
        ),
        advised(maxItems=3),
    ]


class ModelQuoteAttribution(_ModelOutput):
    """The model's reading of one numbered quote candidate the service found between quotation marks."""

    n: Annotated[int, Field(description="The candidate's number.")]
    kind: Literal["direct", "partial", "not_a_quote"]
    speaker: Annotated[ActorName | None, Field(description="Who said it; null if the article does not say.")]


class ModelQuote(_ModelOutput):
    """A quote without quotation marks (reported speech, unmarked words), copied from the article."""

    text: Annotated[
        str,
        Field(description="The reported words copied exactly."),
        advised(maxLength=EXCERPT_MAX_CHARS),
    ]
    speaker: Annotated[ActorName | None, Field(description="Who said it; null if the article does not say.")]
    kind: Literal["indirect", "direct"]
    verb: Annotated[ShortText | None, Field(description="Reporting verb as written.")]


class ModelEvent(_ModelOutput):
    summary: ShortText
    excerpt: Excerpt
    date_text: Annotated[
        ShortText | None, Field(description="The date exactly as written, e.g. 'on Monday'; null if none.")
    ]
    location: ShortText | None
    participants: NameList


class ModelPosition(_ModelOutput):
    holder: ActorName
    topic: ShortText
    stance: Literal["support", "oppose", "conditional", "neutral"]
    summary: ShortText
    excerpt: Excerpt


class ModelProposal(_ModelOutput):
    summary: ShortText
    excerpt: Excerpt
    proposers: NameList
    supporters: NameList
    opponents: NameList
    status: Literal["proposed", "under_negotiation", "accepted", "rejected", "withdrawn", "unknown"]


_SCHEMAS: dict[tuple[Any, ...], dict[str, Any]] = {}
_PROSE_KEYWORDS = frozenset({"title", "description"})


_NULL = {"type": "null"}


def _compact(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema as the model gets it: structure only (no titles or descriptions), each definition
    written where it is used (each is used once), `anyOf: [X, null]` as X of `type: [t, "null"]`.
    The same constraints in ~15 % fewer tokens; llama.cpp's grammars and OpenAI's strict mode read both."""
    definitions = schema.get("$defs", {})

    def walk(node: Any, *, field_names: bool = False) -> Any:
        if isinstance(node, list):
            return [walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            return walk(definitions[node["$ref"].rsplit("/", 1)[-1]])
        options = node.get("anyOf", [])
        if len(options) == 2 and _NULL in options:
            [other] = [option for option in options if option != _NULL]
            if isinstance(other.get("type"), str):
                rest = {key: value for key, value in node.items() if key != "anyOf"}
                node = {**rest, **other, "type": [other["type"], "null"]}
        return {
            key: walk(value, field_names=key == "properties")
            for key, value in node.items()
            if key != "$defs" and (field_names or key not in _PROSE_KEYWORDS)
        }

    return cast(dict[str, Any], walk(schema))


_ITEM_MODELS: dict[ItemType, type[_ModelOutput]] = {
    ItemType.EVENT: ModelEvent,
    ItemType.POSITION: ModelPosition,
    ItemType.PROPOSAL: ModelProposal,
}


class ArticleFacts(_ModelOutput):
    """The model's answer, or several answers merged. Subclasses carry only the lists that were asked for.

    `quotes` reads the numbered quote candidates; `reported_quotes` are quotes without marks.
    """

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Generated once per selection of types (instructor asks for it on every call, and only reads
        it). The same dict each time, top level copied: a deep copy per call cost 5 % of the service's
        CPU per extraction under load."""
        key = (cls, args, tuple(sorted(kwargs.items())))
        if key not in _SCHEMAS:
            _SCHEMAS[key] = _compact(super().model_json_schema(*args, **kwargs))
        return dict(_SCHEMAS[key])

    def items(self, list_name: str) -> list[Any]:
        """One of the answer's lists, empty when it was not asked for."""
        return list(getattr(self, list_name, []))


def _list_of(model: type[_ModelOutput], **limits: int) -> Any:
    return (Annotated[list[model], advised(**limits)], ...)  # type: ignore[valid-type]


@cache
def _facts_model(types: frozenset[ItemType], candidates: int, actors: bool) -> type[ArticleFacts]:
    fields: dict[str, Any] = {}
    if actors:
        fields["actors"] = _list_of(ModelActor, maxItems=MAX_ITEMS["actors"])
    if ItemType.QUOTE in types:
        if candidates:
            fields["quotes"] = _list_of(ModelQuoteAttribution, minItems=candidates, maxItems=candidates)
        fields[REPORTED_QUOTES] = _list_of(ModelQuote, maxItems=MAX_ITEMS[REPORTED_QUOTES])
    for item_type, item_model in _ITEM_MODELS.items():
        if item_type in types:
            fields[item_type.list_name] = _list_of(item_model, maxItems=MAX_ITEMS[item_type.list_name])
    return create_model("ArticleFacts", __base__=ArticleFacts, **fields)


def facts_model_for(
    types: Iterable[ItemType], *, candidates: int = 0, actors: bool = True
) -> type[ArticleFacts]:
    """The response model for these types and this many quote candidates: nothing the model won't fill."""
    return _facts_model(frozenset(types), candidates, actors)


def merge_answers(answers: Iterable[ArticleFacts]) -> ArticleFacts:
    """Several calls' answers as one: lists concatenated in call order."""
    merged: dict[str, list[Any]] = {}
    for answer in answers:
        for name in type(answer).model_fields:
            merged.setdefault(name, []).extend(answer.items(name))
    return _merged_model(tuple(merged)).model_validate(merged)


@cache
def _merged_model(names: tuple[str, ...]) -> type[ArticleFacts]:
    """One class per set of lists: building a pydantic class per extraction took ~0.5 ms."""
    fields: dict[str, Any] = dict.fromkeys(names, (list[Any], ...))
    return create_model("ArticleFacts", __base__=ArticleFacts, **fields)
