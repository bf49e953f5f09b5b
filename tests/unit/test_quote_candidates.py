"""Quote candidates: every quoted span with exact offsets, apostrophes never taken for marks."""

from __future__ import annotations

from pathlib import Path

import pytest

from factline.quote_candidates import QuoteCandidate, find_quote_candidates
from tests.conftest import ARTICLES


def texts(text: str) -> list[str]:
    return [candidate.text for candidate in find_quote_candidates(text)]


def assert_offsets_exact(text: str, candidates: list[QuoteCandidate]) -> None:
    for candidate in candidates:
        assert text[candidate.start : candidate.end] == candidate.text


@pytest.mark.parametrize("article", sorted(ARTICLES.glob("*.txt")), ids=lambda path: path.stem)
def test_offsets_index_the_article_in_code_points(article: Path) -> None:
    text = article.read_text("utf-8")
    candidates = find_quote_candidates(text)
    assert_offsets_exact(text, candidates)
    assert [c.start for c in candidates] == sorted(c.start for c in candidates)


def test_every_marked_quote_of_an_article_is_found_and_apostrophes_are_not() -> None:
    text = (ARTICLES / "004_8dd281839903a95c.txt").read_text("utf-8")
    assert texts(text) == [
        "a lot of progress",
        "From the very beginning, Ukraine’s desire was to join NATO, these are real security guarantees. "
        "Some partners from the US and Europe did not support this direction,",
        "anything but an ideal setup,",
        "But as they say, you can only dance with the people on the dance floor,",
        "Therefore, it remains to be seen to what extent this statement Zelensky has now made will actually "
        "hold true,",
        "wouldn’t be worth much.",
        "fair option.",
    ]


def test_an_article_without_quotation_marks_has_no_candidates_despite_its_apostrophes() -> None:
    text = (ARTICLES / "000_38688fb7183b1fa4.txt").read_text("utf-8")
    assert "’" in text
    assert find_quote_candidates(text) == []


def test_a_block_quote_followed_by_a_dash_and_a_name_is_attributed_to_that_name() -> None:
    text = (ARTICLES / "001_c0f1db72d73447e2.txt").read_text("utf-8")
    block, *others = find_quote_candidates(text)
    assert block.text.startswith("Putin does not intend to wage a full-scale world war against NATO.")
    assert block.text.endswith("after the 13th or 15th airspace violation")
    assert block.attributed_to == "Boris Pistorius"
    assert [c.text for c in others] == [
        "a productive continuation of the negotiations in Geneva.",
        "by peaceful means,",
        "Plan for Prosperity,",
    ]
    assert all(c.attributed_to is None for c in others)


def test_a_quote_inside_a_sentence_is_not_attributed_by_a_dash_line() -> None:
    text = "He called it “a first step” on Monday.\n– Reuters"
    [candidate] = find_quote_candidates(text)
    assert candidate.attributed_to is None


def test_two_quotes_in_one_sentence_and_a_straight_quoted_pair() -> None:
    text = (ARTICLES / "002_e7cf198c34dc2028.txt").read_text("utf-8")
    found = texts(text)
    assert "We have a clear road map," in found
    assert "This work is going forward very well." in found
    assert found.count("reassurance force") == 2
    assert found[-2:] == ["narco terrorists", "non-international armed conflict"]  # straight "…"
    assert_offsets_exact(text, find_quote_candidates(text))


@pytest.mark.parametrize(
    ("text", "quoted"),
    [
        ("Er sagte: „Wir sind bereit.“ Dann ging er.", ["Wir sind bereit."]),
        ("Sie schrieb: „Das reicht nicht”, und blieb.", ["Das reicht nicht"]),
        ("Il a dit « nous sommes prêts » hier.", ["nous sommes prêts"]),
        ("She called it ‘a fair deal’ and the unions’ leaders agreed.", ["a fair deal"]),
        ('He said "we will stay" and left.', ["we will stay"]),
    ],
)
def test_every_common_style_of_quotation_marks(text: str, quoted: list[str]) -> None:
    assert texts(text) == quoted
    assert_offsets_exact(text, find_quote_candidates(text))


def test_a_quote_inside_a_quote_is_part_of_the_outer_one() -> None:
    text = "“They told us ‘wait’, and we waited,” she said."
    assert texts(text) == ["They told us ‘wait’, and we waited,"]


def test_apostrophes_and_possessives_are_not_marks() -> None:
    text = "Europe’s leaders met the envoys’ team; it wasn’t the ’90s. Ukraine’s army held."
    assert find_quote_candidates(text) == []


def test_a_quote_that_runs_over_paragraphs_is_one_candidate() -> None:
    text = (
        "The minister spoke at length.\n"
        "“We will not give up our position. We have said so from the start.\n"
        "“Our partners know it, and they agree,” she told the assembly.\n"
        "Then the vote began."
    )
    [candidate] = find_quote_candidates(text)
    assert candidate.text.startswith("We will not give up")
    assert candidate.text.endswith("and they agree,")
    assert "\n“Our partners" in candidate.text
    assert_offsets_exact(text, [candidate])


def test_an_unclosed_quote_ends_with_its_paragraph_when_the_next_one_does_not_go_on() -> None:
    text = "He said: “we will stay\nThe next day they left."
    [candidate] = find_quote_candidates(text)
    assert candidate.text == "we will stay"


def test_offsets_count_code_points_after_characters_outside_the_basic_plane() -> None:
    text = "🇺🇦 Update: “Hold the line,” the general said."
    [candidate] = find_quote_candidates(text)
    assert candidate.text == "Hold the line,"
    assert candidate.start == text.index("Hold")
