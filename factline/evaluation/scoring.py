"""Counting one extraction against its reference annotations, and the figures derived from the counts.

The reference lists are not exhaustive, so an extracted item no reference matches is not
necessarily wrong: precision against them (and F1) is a lower bound. The grounded share says what
part of the model's items the service could find in the text at all.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from factline.evaluation.gold import GoldArticle
from factline.evaluation.matching import locate_reference, match_items, same_actor
from factline.grounding import ArticleIndex
from schemas import Actor, Event, Extraction, FoundBy, ItemType, Position, Proposal, Quote, WarningCode

# Warnings that mean an item the model returned is not in the result.
_DROPPED = {WarningCode.UNGROUNDED, WarningCode.DUPLICATE, WarningCode.PAGE_CHROME}


@dataclass
class Counts:
    """Counts of one type, for one article or summed over several."""

    reference: int = 0
    returned: int = 0
    ungrounded: int = 0
    kept: int = 0
    # Kept items the service found by the text's own cues where the model passed over them (not returned).
    found_in_text: int = 0
    matched: int = 0
    attributable: int = 0
    attributed: int = 0
    dated: int = 0
    dated_right: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def figures(self) -> dict[str, float | None]:
        """Ratios; None where the denominator is zero."""
        recall = _ratio(self.matched, self.reference)
        precision = _ratio(self.matched, self.kept)
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall > 0
            else (0.0 if precision is not None and recall is not None else None)
        )
        return {
            "recall": recall,
            "precision_lower_bound": precision,
            "f1_lower_bound": f1,
            "attribution_accuracy": _ratio(self.attributed, self.attributable),
            "date_accuracy": _ratio(self.dated_right, self.dated),
            "grounded_share": _ratio(self.returned - self.ungrounded, self.returned),
        }


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _attributed_to(item: Quote | Event | Position | Proposal) -> list[str]:
    if isinstance(item, Quote):
        return [item.speaker_id] if item.speaker_id else []
    if isinstance(item, Position):
        return [item.holder_id] if item.holder_id else []
    if isinstance(item, Proposal):
        return item.proposer_ids
    return []


def score_article(gold: GoldArticle, text: str, result: Extraction) -> dict[ItemType, Counts]:
    """Counts per requested type of one extraction of `text` against its annotations."""
    index = ArticleIndex(text)
    return {item_type: score_type(gold, index, result, item_type) for item_type in result.types}


def score_type(gold: GoldArticle, index: ArticleIndex, result: Extraction, item_type: ItemType) -> Counts:
    """Match one type's items to the references and count hits, attributions, dates and drops."""
    items: list[Quote | Event | Position | Proposal] = getattr(result, item_type.list_name)
    references = [locate_reference(index, excerpt) for excerpt in gold.excerpts(item_type)]
    matched = match_items(references, [item.evidence for item in items])
    actors: dict[str, Actor] = {actor.id: actor for actor in result.actors}
    found_in_text = sum(item.found_by is FoundBy.TEXT for item in items)
    counts = Counts(
        reference=len(references),
        kept=len(items),
        returned=len(items) - found_in_text,
        found_in_text=found_in_text,
        matched=len(matched),
    )
    # Quotes come as readings of quote candidates (`quotes[n]`) and as reported quotes.
    prefixes = (f"{item_type.list_name}[", *(["reported_quotes["] if item_type is ItemType.QUOTE else []))
    for warning in result.warnings:
        if warning.item.startswith(prefixes) and warning.code in _DROPPED:
            counts.returned += 1
            counts.ungrounded += warning.code is WarningCode.UNGROUNDED
    owners = gold.attributed(item_type)
    for ref, found in matched.items():
        item = items[found]
        if (owner := owners[ref]) is not None:
            counts.attributable += 1
            counts.attributed += any(same_actor(owner, actors.get(i)) for i in _attributed_to(item))
        if isinstance(item, Event):
            counts.dated += 1
            counts.dated_right += item.date == gold.events[ref].date
    return counts
