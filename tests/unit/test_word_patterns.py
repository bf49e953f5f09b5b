"""Patterns for many words: the same matches as the plain alternation they replace."""

from __future__ import annotations

import re

import hypothesis
import hypothesis.strategies as st

from factline.word_patterns import any_word

WORDS = ["said", "says", "saying", "add", "added", "adds", "pointed out", "according to", "U.S.", "a+b"]


def test_factored_by_shared_prefixes() -> None:
    assert any_word(["said", "says", "saying"]) == "sa(?:id|y(?:ing|s))"


def test_matches_every_word_whole_and_nothing_else() -> None:
    pattern = re.compile(rf"\b{any_word(WORDS[:8])}\b")
    for word in WORDS[:8]:
        assert pattern.fullmatch(word)
    for other in ("sai", "sayings", "ad", "addeds", "pointed", "according"):
        assert not pattern.fullmatch(other)


def test_special_characters_are_literal() -> None:
    pattern = re.compile(any_word(["U.S.", "a+b"]))
    matched = [bool(pattern.fullmatch(text)) for text in ("U.S.", "a+b", "UxSx", "aab")]
    assert matched == [True, True, False, False]


def test_the_longest_word_is_found_where_one_begins_another() -> None:
    assert re.match(any_word(["add", "added"]), "added").group() == "added"  # type: ignore[union-attr]
    assert re.match(any_word(["ruled", "ruled out"]), "ruled out").group() == "ruled out"  # type: ignore[union-attr]


PIECES = [*WORDS, "sai", "adding", "out", "to", " ", ", ", "."]


@hypothesis.given(st.lists(st.sampled_from(PIECES), max_size=30))
def test_finds_what_the_longest_first_alternation_finds(pieces: list[str]) -> None:
    text = "".join(pieces)
    plain = "|".join(map(re.escape, sorted(WORDS, key=len, reverse=True)))
    expected = [match.span() for match in re.finditer(rf"\b(?:{plain})\b", text)]
    assert [match.span() for match in re.finditer(rf"\b{any_word(WORDS)}\b", text)] == expected
