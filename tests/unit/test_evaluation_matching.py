"""The harness's matching rules (factline/evaluation/matching.py), on sentences of article 001."""

from __future__ import annotations

import pytest

from factline.evaluation.matching import (
    FOUND_COVERAGE,
    REFERENCE_COVERAGE,
    Occurrence,
    ReferenceNotInArticle,
    locate_reference,
    match_items,
    match_score,
    same_actor,
)
from factline.evaluation.scoring import Counts
from factline.grounding import ArticleIndex
from schemas import Actor, ActorKind, MatchKind, Span
from tests.conftest import ARTICLES

TEXT = (ARTICLES / "001_c0f1db72d73447e2.txt").read_text("utf-8")
INDEX = ArticleIndex(TEXT)
USHAKOV = "the sides have not yet reached compromises regarding the war in Ukraine"


def span_of(excerpt: str, occurrence: int = 0) -> Span:
    start = TEXT.index(excerpt)
    for _ in range(occurrence):
        start = TEXT.index(excerpt, start + 1)
    return Span(start=start, end=start + len(excerpt), text=excerpt, match=MatchKind.EXACT, score=100.0)


def test_a_quote_found_with_a_word_more_or_less_still_matches() -> None:
    reference = locate_reference(INDEX, USHAKOV)
    assert match_score(reference, [span_of("said that " + USHAKOV)]) is not None
    assert match_score(reference, [span_of(USHAKOV.removesuffix(" in Ukraine"))]) is not None


def test_a_reference_is_located_after_folding_quotes_dashes_and_case() -> None:
    [occurrence] = locate_reference(INDEX, "PUTIN'S CONCLUDING PRESS CONFERENCE")
    assert TEXT[occurrence.start : occurrence.end] == "Putin’s concluding press conference"
    with pytest.raises(ReferenceNotInArticle):
        locate_reference(INDEX, "Putin’s opening press conference")


def test_every_occurrence_of_a_repeated_reference_counts() -> None:
    reference = locate_reference(INDEX, "the United States")
    assert len(reference) > 2
    assert match_score(reference, [span_of("the United States", occurrence=2)]) is not None


def test_a_whole_paragraph_does_not_match_a_short_reference() -> None:
    paragraph = TEXT.split("\n")[10]  # December 2 … Ushakov: 388 characters
    reference = locate_reference(INDEX, "Putin held an almost five-hour meeting with the American delegation")
    assert match_score(reference, [span_of(paragraph)]) is None
    sentence = (
        "On the same day in Moscow, Putin held an almost five-hour meeting with the American delegation."
    )
    assert match_score(reference, [span_of(sentence)]) is not None


def test_thresholds_hold_at_their_boundaries() -> None:
    reference = [Occurrence(100, 200)]
    half = Span(start=150, end=250, text="x" * 100, match=MatchKind.EXACT, score=100.0)
    assert match_score(reference, [half]) == pytest.approx(REFERENCE_COVERAGE + 0.5)
    less_than_half = Span(start=151, end=250, text="x" * 99, match=MatchKind.EXACT, score=100.0)
    assert match_score(reference, [less_than_half]) is None
    wide = Span(start=100, end=100 + int(100 / FOUND_COVERAGE), text="x", match=MatchKind.EXACT, score=100.0)
    assert match_score(reference, [wide]) == pytest.approx(1 + FOUND_COVERAGE)
    wider = Span(start=100, end=101 + int(100 / FOUND_COVERAGE), text="x", match=MatchKind.EXACT, score=100.0)
    assert match_score(reference, [wider]) is None


def test_matching_is_one_to_one_best_pairs_first() -> None:
    both = "Putin’s aide Yuri Ushakov said that " + USHAKOV
    references = [locate_reference(INDEX, "Putin’s aide Yuri Ushakov said"), locate_reference(INDEX, USHAKOV)]
    # One span covering both references is claimed by the one it fits best; the other stays unmatched.
    assert match_items(references, [[span_of(both)]]) == {1: 0}
    assert match_items(references, [[span_of(both)], [span_of("Putin’s aide Yuri Ushakov said")]]) == {
        0: 1,
        1: 0,
    }


def person(name: str, *mentions: str) -> Actor:
    return Actor(
        id="actor_1",
        name=name,
        kind=ActorKind.PERSON,
        roles=[],
        mentions=[span_of(mention) for mention in mentions],
    )


def test_attribution_by_name_mention_or_lone_surname_never_a_namesake() -> None:
    pistorius = person("Boris Pistorius", "Pistorius", "the minister")
    assert same_actor("Boris Pistorius", pistorius)
    assert same_actor("Pistorius", person("Boris Pistorius"))
    assert same_actor("Boris Pistorius", person("Pistorius"))
    assert same_actor("the minister", pistorius)
    assert not same_actor("Maria Pistorius", person("Boris Pistorius"))
    assert not same_actor("Vladimir Putin", pistorius)
    assert not same_actor("Boris Pistorius", None)


def test_precision_and_f1_are_lower_bounds_and_absent_without_items() -> None:
    counts = Counts(reference=4, returned=10, ungrounded=2, kept=8, matched=2)
    figures = counts.figures()
    assert figures["recall"] == 0.5
    assert figures["precision_lower_bound"] == 0.25
    assert figures["f1_lower_bound"] == pytest.approx(1 / 3)
    assert figures["grounded_share"] == 0.8
    assert figures["attribution_accuracy"] is None
    assert Counts(reference=3).figures()["precision_lower_bound"] is None
    assert (Counts(matched=1) + Counts(matched=2, kept=4)).matched == 3
