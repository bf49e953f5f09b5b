"""What a client submits: one article and the options of its extraction."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)

from schemas.contract import Choice

ARTICLE_TEXT_EXAMPLE = (
    "German Defense Minister Boris Pistorius said on Monday it was “fundamentally wrong” "
    "to discuss troop deployments to Ukraine before peace talks."
)


TEXT_PATTERN = r"\S"
"""An article's text has at least one character that is not whitespace."""
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


# Metadata is trimmed; the text never is: every offset in a result indexes it exactly as sent.
Stripped = Annotated[str, StringConstraints(strip_whitespace=True)]


class ItemType(Choice):
    """The kinds of fact factline extracts."""

    QUOTE = "quote"
    EVENT = "event"
    POSITION = "position"
    PROPOSAL = "proposal"

    @property
    def list_name(self) -> str:
        """The name of this type's list in results and in the model's answer: quotes, events, ..."""
        return f"{self.value}s"


ALL_ITEM_TYPES: tuple[ItemType, ...] = tuple(ItemType)


class ArticleMetadata(BaseModel):
    """Optional facts about an article that the client knows and the text may not say."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[
        Stripped | None,
        Field(
            max_length=256,
            description="The caller's own identifier for the article, echoed back unchanged.",
            examples=["dw-71594447"],
        ),
    ] = None
    title: Annotated[
        Stripped | None,
        Field(max_length=1000, description="Headline of the article.", examples=["Pistorius rebukes EU"]),
    ] = None
    url: Annotated[
        Stripped | None,
        Field(
            max_length=2048,
            description="Where the article was published. Recorded only; factline never fetches it.",
            examples=["https://www.dw.com/en/a-71594447"],
        ),
    ] = None
    source: Annotated[
        Stripped | None,
        Field(max_length=256, description="Publisher or outlet name.", examples=["DW"]),
    ] = None
    published_at: Annotated[
        datetime | date | None,
        Field(
            description=(
                "Publication date or date-time (ISO 8601). Relative dates in the text ('on Monday', "
                "'December 2') are resolved against it; without it they stay null."
            ),
            examples=["2025-12-15"],
        ),
    ] = None
    language: Annotated[
        Stripped | None,
        Field(
            min_length=2,
            max_length=35,
            pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
            description="BCP 47 language tag of the text.",
            examples=["en"],
        ),
    ] = None

    @field_validator("published_at", mode="wrap")
    @classmethod
    def date_or_datetime(cls, value: object, handler: ValidatorFunctionWrapHandler) -> object:
        """'2025-12-15' stays a date (not midnight); one clear error instead of one per union member.

        Numbers are refused: pydantic would read 0 as 1970-01-01, a date the client never meant.
        """
        if isinstance(value, int | float):
            raise ValueError("must be an ISO 8601 date string, not a number")
        if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
            value = value.strip()
            try:
                return date.fromisoformat(value)
            except ValueError as error:
                raise ValueError(f"not a valid calendar date: {error}") from None
        try:
            return handler(value)
        except ValidationError:
            raise ValueError(
                "must be an ISO 8601 date (2025-12-15) or date-time (2025-12-15T09:30:00Z)"
            ) from None

    @property
    def published_date(self) -> date | None:
        """The publication day, whatever precision the client gave."""
        if isinstance(self.published_at, datetime):
            return self.published_at.date()
        return self.published_at


class ExtractionRequest(ArticleMetadata):
    """One article to extract facts from."""

    text: Annotated[
        str,
        Field(
            min_length=1,
            description=(
                "The article's full text exactly as it should be grounded: every evidence offset "
                "in the response indexes this string (in Unicode code points)."
            ),
            examples=[ARTICLE_TEXT_EXAMPLE],
        ),
    ]
    types: Annotated[
        list[ItemType],
        Field(
            min_length=1,
            max_length=4,
            description="Which kinds of fact to extract; all four when omitted. Fewer types, less work.",
            examples=[["quote", "event"]],
        ),
    ] = Field(default_factory=lambda: list(ALL_ITEM_TYPES))

    # Whitespace is kept in `text` (offsets must index what the client sent); only its emptiness is checked.
    @field_validator("text")
    @classmethod
    def text_must_have_content(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("text must contain more than whitespace")
        return value

    @field_validator("types")
    @classmethod
    def types_are_unique(cls, value: list[ItemType]) -> list[ItemType]:
        return sorted(set(value), key=ALL_ITEM_TYPES.index)
