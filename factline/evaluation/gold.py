"""Reference annotations: what a good extraction of one article must contain (fixtures/gold/README.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas import ItemType


class _Gold(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GoldQuote(_Gold):
    speaker: str
    text: str
    kind: Literal["direct", "partial", "indirect"]


class GoldEvent(_Gold):
    date: date | None
    evidence: str
    location: str | None = None


class GoldPosition(_Gold):
    holder: str
    stance: Literal["support", "oppose", "conditional", "neutral"]
    evidence: str


class GoldProposal(_Gold):
    proposer: str
    evidence: str


class GoldArticle(_Gold):
    """One article's annotations. The lists are not exhaustive: they hold what any good extraction finds."""

    article: str
    published_at: date | None = None
    note: str | None = Field(default=None, description="Who wrote it and how, when not the shared set.")
    quotes: list[GoldQuote] = []
    events: list[GoldEvent] = []
    positions: list[GoldPosition] = []
    proposals: list[GoldProposal] = []

    def excerpts(self, item_type: ItemType) -> list[str]:
        """The verbatim text each item of a type is identified by."""
        if item_type is ItemType.QUOTE:
            return [quote.text for quote in self.quotes]
        return [item.evidence for item in getattr(self, item_type.list_name)]

    def attributed(self, item_type: ItemType) -> list[str | None]:
        """Who each item of a type belongs to: speaker, holder, proposer; None for events."""
        field = {ItemType.QUOTE: "speaker", ItemType.POSITION: "holder", ItemType.PROPOSAL: "proposer"}
        if item_type not in field:
            return [None] * len(getattr(self, item_type.list_name))
        return [getattr(item, field[item_type]) for item in getattr(self, item_type.list_name)]


def load_gold(folder: Path) -> list[GoldArticle]:
    """Every `*.json` annotation in a folder, in file-name order."""
    return [
        GoldArticle.model_validate_json(path.read_text("utf-8")) for path in sorted(folder.glob("*.json"))
    ]
