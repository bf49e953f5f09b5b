"""Grounding: the model's excerpts located in the article, offsets computed by the service."""

from __future__ import annotations

import hypothesis
import pytest

from factline.grounding import (
    ArticleIndex,
    Claims,
    _char_by_char,
    _folded_view,
    _SpacesCollapsed,
    fold,
    strip_quote_marks,
)
from schemas import MatchKind
from tests.conftest import ARTICLES

ARTICLE = (
    "Zürich – «Ça va», a Lithuanian official, Dovilė Šakalienė, said.\n\n"
    "“We have reached a fair deal,” Dahl told reporters. Later she repeated: "
    '"We have reached a fair deal," and left.'
)


def spans_text(index: ArticleIndex, excerpt: str) -> list[str]:
    return [index.text[hit.start : hit.end] for hit in index.find_all(excerpt)]


def test_exact_match_offsets_are_code_points_after_non_ascii_text() -> None:
    index = ArticleIndex(ARTICLE)
    [hit] = index.find_all("said.")
    # Multi-byte characters before the quote: UTF-8 byte offsets would be larger than these.
    assert hit.start == ARTICLE.index("said.")
    assert len(ARTICLE[: hit.start].encode()) > hit.start
    assert index.span(hit).text == "said." == ARTICLE[hit.start : hit.end]
    assert hit.match is MatchKind.EXACT


def test_repeated_text_yields_every_occurrence_in_text_order() -> None:
    index = ArticleIndex(ARTICLE)
    hits = index.find_all("We have reached a fair deal,")
    assert [h.match for h in hits] == [MatchKind.EXACT, MatchKind.EXACT]
    assert hits[0].start < hits[1].start


def test_locate_skips_occurrences_already_claimed() -> None:
    index = ArticleIndex(ARTICLE)
    claims = Claims()
    first = index.locate("We have reached a fair deal", 90, claims)
    assert first is not None
    claims.claim(first)
    second = index.locate("We have reached a fair deal", 90, claims)
    assert second is not None
    assert second.start > first.start
    claims.claim(second)
    # All claimed: the first comes back, so the caller can see it is a repeat.
    again = index.locate("We have reached a fair deal", 90, claims)
    assert again == first
    assert again is not None
    assert not claims.free(again)
    # Overlap counts as a repeat too: a shorter excerpt of a claimed quote is the same quote.
    inner = index.locate("reached a fair", 90, claims)
    assert inner is not None
    assert not claims.free(inner)


@pytest.mark.parametrize(
    ("excerpt", "expected"),
    [
        ('"Ça va"', "«Ça va»"),  # straight vs typographic quotes
        ("zürich - «ça va»", "Zürich – «Ça va»"),  # case and dash folded
        ("said. “We have", "said.\n\n“We have"),  # whitespace runs folded
        ("DOVILĖ ŠAKALIENĖ", "Dovilė Šakalienė"),
    ],
)
def test_normalised_match_returns_the_article_text_not_the_excerpt(excerpt: str, expected: str) -> None:
    index = ArticleIndex(ARTICLE)
    hits = index.find_all(excerpt)
    assert hits, excerpt
    assert hits[0].match is MatchKind.NORMALIZED
    assert ARTICLE[hits[0].start : hits[0].end] == expected


def test_fuzzy_match_snaps_to_whole_words_and_reports_its_score() -> None:
    index = ArticleIndex(ARTICLE)
    hit = index.find_fuzzy("Dahl told the reporters, we have reached a fair deal", 80)
    assert hit is None or hit.match is MatchKind.FUZZY
    hit = index.find_fuzzy("a Lithuanian oficial, Dovile Sakaliene said", 85)
    assert hit is not None
    text = ARTICLE[hit.start : hit.end]
    assert text.startswith("a Lithuanian official")
    assert text.endswith("said.")
    assert 85 <= hit.score < 100


def test_text_that_is_not_in_the_article_is_not_found() -> None:
    index = ArticleIndex(ARTICLE)
    assert index.find_all("We will never surrender") == []
    assert index.locate("We will never surrender to anyone at all", 90) is None


def test_short_excerpts_are_never_matched_fuzzily() -> None:
    assert ArticleIndex(ARTICLE).find_fuzzy("Dahl tol", 50) is None


def test_whole_word_search_ignores_matches_inside_words() -> None:
    index = ArticleIndex("UKRAINE and the UK met. The EU and EUROPE agreed.")
    assert spans_text(index, "UK") == ["UK", "UK"]
    assert [index.text[h.start : h.end] for h in index.find_all("UK", whole_words=True)] == ["UK"]
    assert len(index.find_all("EU")) == 2
    assert [index.text[h.start : h.end] for h in index.find_all("EU", whole_words=True)] == ["EU"]


def test_quote_marks_around_an_excerpt_are_stripped() -> None:
    assert strip_quote_marks(" “fundamentally wrong” ") == "fundamentally wrong"
    assert strip_quote_marks("'tis") == "tis"


def test_fold_is_idempotent_and_case_insensitive() -> None:
    assert fold("Straße — “A”\u00a0 b") == 'strasse - "a" b'
    assert fold(fold("Straße — “A”")) == fold("Straße — “A”")


@hypothesis.given(
    hypothesis.strategies.text(alphabet="aZß ﬁ“”‘’`´–—\u00a0\t\nÉéİǅ«»„″−－Ⅻ¨.,", max_size=24)
    | hypothesis.strategies.text(max_size=24)
)
def test_fold_of_an_excerpt_matches_the_articles_folded_text(text: str) -> None:
    """Excerpts are folded whole (fast paths for ASCII); the article character by character, to keep
    offsets. Both must give the same text, or an excerpt would not be found in its article."""
    assert fold(text) == _folded_view(text.strip()).text


@hypothesis.given(hypothesis.strategies.text(alphabet="aZ.,' \t\n\r\x1c“”‘’`´–—«»", max_size=40))
@hypothesis.example("  Leading and trailing whitespace\t\n")
@hypothesis.example("Paragraphs\n\n\nand   runs\t \tof  \x1c whitespace\r\n of every kind.")
@hypothesis.example((ARTICLES / "000_38688fb7183b1fa4.txt").read_text("utf-8"))
def test_an_ascii_articles_folded_view_maps_each_character_as_the_character_map_does(text: str) -> None:
    """An ASCII article (once its marks are folded) keeps only its collapsed whitespace runs, not an
    offset per character: every offset must still map to the same span of the original."""
    view, by_character = _folded_view(text), _char_by_char(text)
    assert isinstance(view, _SpacesCollapsed)
    assert view.text == by_character.text
    offsets = range(len(view.text))
    assert [(view.start(i), view.end(i)) for i in offsets] == [
        (by_character.start(i), by_character.end(i)) for i in offsets
    ]


def test_a_non_ascii_article_is_mapped_character_by_character() -> None:
    assert _folded_view("Straße  ﬁnal Ǆ") == _char_by_char("Straße  ﬁnal Ǆ")
    assert _folded_view("Straße  ﬁnal Ǆ").text == "strasse final dž"
