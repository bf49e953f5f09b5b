"""How an extracted item is judged to be a reference item: overlap of spans in the article, after
normalisation, one to one.

Rules (each unit-tested in tests/unit/test_evaluation_matching.py):

1. A reference item's text is located in the article: every occurrence, verbatim or after the
   service's folding (case, quotation marks, dashes, whitespace). A reference the article does not
   contain is an error in the annotation, not a miss.
2. An extracted item and a reference item *match* when their spans overlap by at least
   `REFERENCE_COVERAGE` of the reference span and at least `FOUND_COVERAGE` of the extracted span,
   at any occurrence. A quote found with a word more or less still matches; an evidence sentence
   that states the reference clause among other things matches; a paragraph does not.
3. Matching is one to one: candidate pairs are taken best first (the sum of both coverages), each
   item and each reference at most once, so one broad span cannot collect several references.
4. Attribution (a quote's speaker, a position's holder, one of a proposal's proposers) is right when
   the reference name is the actor's name or one of its mentions, compared as `actor_key` (folded,
   without a leading article or possessive), or when one of the two is a lone surname of the other.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from factline.actors import actor_key
from factline.grounding import ArticleIndex
from schemas import Actor, Span

REFERENCE_COVERAGE = 0.5
FOUND_COVERAGE = 0.2


@dataclass(frozen=True)
class Occurrence:
    start: int
    end: int


class ReferenceNotInArticle(ValueError):
    """An annotation quotes text the article does not contain."""


def locate_reference(index: ArticleIndex, text: str) -> list[Occurrence]:
    """Every place the reference text stands in the article (verbatim, else normalised)."""
    hits = index.find_all(text)
    if not hits:
        raise ReferenceNotInArticle(f"not in the article: “{text[:120]}”")
    return [Occurrence(hit.start, hit.end) for hit in hits]


def coverage(reference: Occurrence, found: Span) -> tuple[float, float]:
    """Overlap as a share of the reference span and as a share of the found span."""
    overlap = min(reference.end, found.end) - max(reference.start, found.start)
    if overlap <= 0:
        return 0.0, 0.0
    return overlap / (reference.end - reference.start), overlap / max(found.end - found.start, 1)


def match_score(references: Sequence[Occurrence], found: Iterable[Span]) -> float | None:
    """The best sum of coverages over occurrences and evidence spans that meet both thresholds, or None."""
    scores = [
        of_reference + of_found
        for occurrence in references
        for span in found
        for of_reference, of_found in [coverage(occurrence, span)]
        if of_reference >= REFERENCE_COVERAGE and of_found >= FOUND_COVERAGE
    ]
    return max(scores, default=None)


def match_items(
    references: Sequence[Sequence[Occurrence]], found: Sequence[Sequence[Span]]
) -> dict[int, int]:
    """One-to-one matching, best pairs first: reference index -> found index."""
    pairs = sorted(
        (
            (score, ref, item)
            for ref, occurrences in enumerate(references)
            for item, spans in enumerate(found)
            if (score := match_score(occurrences, spans)) is not None
        ),
        key=lambda pair: (-pair[0], pair[1], pair[2]),
    )
    matched: dict[int, int] = {}
    used: set[int] = set()
    for _, ref, item in pairs:
        if ref not in matched and item not in used:
            matched[ref] = item
            used.add(item)
    return matched


def _lone_surname(one: str, other: str) -> bool:
    return " " not in one and " " in other and other.rsplit(" ", 1)[-1] == one


def same_actor(reference_name: str, actor: Actor | None) -> bool:
    """Whether the extracted actor is the one the reference names (rule 4)."""
    if actor is None:
        return False
    wanted = actor_key(reference_name)
    names = {actor_key(actor.name)} | {actor_key(mention.text) for mention in actor.mentions}
    return any(
        wanted == name or _lone_surname(wanted, name) or _lone_surname(name, wanted) for name in names if name
    )
