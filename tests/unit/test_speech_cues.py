"""Speech cues on short authored sentences: who the article itself says spoke each quoted passage."""

from __future__ import annotations

import pytest

from factline.quote_candidates import find_quote_candidates
from factline.speech_cues import ArticleCues, SpeechCue


def cue_of(text: str, words: str) -> SpeechCue | None:
    """The cue of the quoted passage that begins with `words`."""
    candidates = find_quote_candidates(text)
    quoted = [(c.start - 1, c.end + 1) for c in candidates]
    [candidate] = [c for c in candidates if c.text.startswith(words)]
    return ArticleCues(text, quoted).of_words(candidate.start, candidate.end)


def speaker(text: str, words: str) -> tuple[str, str, str] | None:
    cue = cue_of(text, words)
    if cue is None:
        return None
    assert text[cue.start : cue.end] == cue.speaker
    return cue.speaker, cue.verb, cue.rule


@pytest.mark.parametrize(
    ("text", "words", "expected"),
    [
        ("“We will win,” Pistorius said.", "We will", ("Pistorius", "said", "after")),
        ("“We will win,” said Pistorius on Monday.", "We will", ("Pistorius", "said", "after")),
        ("Pistorius said: “We will win.”", "We will", ("Pistorius", "said", "before")),
        ("“We are ready,” Kallas told reporters in Brussels.", "We are", ("Kallas", "told", "after")),
        ("“Talks resume,” according to the minister.", "Talks", ("the minister", "according to", "after")),
        ("“But you dance with who is there,” he added, smiling.", "But you", ("he", "added", "after")),
        (
            "Pistorius said it was “fundamentally wrong” now.",
            "fundamentally",
            ("Pistorius", "said", "before"),
        ),
    ],
)
def test_the_reporting_cues_of_a_quote(text: str, words: str, expected: tuple[str, str, str]) -> None:
    assert speaker(text, words) == expected


def test_titles_in_front_of_a_name_are_dropped_and_a_full_name_can_name_a_new_person() -> None:
    cue = cue_of("German Defense Minister Boris Pistorius called it “anything but ideal.”", "anything")
    assert cue is not None
    assert (cue.speaker, cue.person) == ("Boris Pistorius", "Boris Pistorius")
    lone = cue_of("“It is over,” Pistorius said.", "It is")
    assert lone is not None
    assert lone.person is None  # a lone surname must be an actor already


def test_a_name_before_an_apposition_speaks() -> None:
    text = "Boris Pistorius, Germany’s defence minister, said the force was “ready to deploy”."
    assert speaker(text, "ready") == ("Boris Pistorius", "said", "before")


def test_a_participle_speaks_for_the_subject_of_the_clause_before_it() -> None:
    text = "EU foreign policy chief Kaja Kallas criticised the plan, saying “it rewards aggression.”"
    assert speaker(text, "it rewards") == ("Kaja Kallas", "saying", "before")


def test_a_cue_later_in_the_sentence_serves_every_quote_before_it() -> None:
    text = "Accession would “promote healing” while offering “hope for peace,” Beebe wrote."
    assert speaker(text, "promote") == ("Beebe", "wrote", "later")
    assert speaker(text, "hope") == ("Beebe", "wrote", "after")


def test_a_quote_standing_alone_continues_the_quote_before_it() -> None:
    text = "“We have a road map,” von der Leyen told the paper. “The work is going well.”"
    assert speaker(text, "The work") == ("von der Leyen", "told", "continued")


def test_a_quote_followed_by_a_different_persons_sentence_is_not_theirs() -> None:
    text = "“We will win.” Jones said the plan had failed."
    assert speaker(text, "We will") is None
    text = "“We will win,” Smith said. Jones disagreed. “It is over.”"
    assert speaker(text, "We will") == ("Smith", "said", "after")
    assert speaker(text, "It is over") is None  # the sentence before has no quote to continue


def test_said_inside_a_quote_is_no_cue() -> None:
    text = "The banner was blunt: “The minister said nothing and the plan is dead.”"
    assert speaker(text, "The minister") is None
    text = "“Smith said we would lose, and he was wrong,” Jones said."
    assert speaker(text, "Smith said") == ("Jones", "said", "after")


def test_two_speakers_in_one_paragraph_keep_their_own_quotes() -> None:
    text = (
        "“We will fund it,” Keller said. “We will not,” replied Olaf Brandt, the council leader. "
        "Keller answered: “Then we wait.”"
    )
    assert speaker(text, "We will fund") == ("Keller", "said", "after")
    assert speaker(text, "We will not") == ("Olaf Brandt", "replied", "after")
    assert speaker(text, "Then we") == ("Keller", "answered", "before")


def test_names_in_quotation_marks_and_quotes_without_a_speaker_have_no_cue() -> None:
    assert speaker("Umerov said the talks covered the “Plan for Prosperity”.", "Plan") is None
    assert speaker("The meeting was described as “a productive continuation.”", "a productive") is None
    assert speaker("Senior officials have reportedly told Kyiv it is “not enough.”", "not enough") is None
    assert speaker("The killing was “personal revenge,” according to estimates.", "personal") is None


def test_abbreviations_do_not_end_a_sentence() -> None:
    text = "The U.S. envoy was clear. Witkoff said the U.S. plan is “final.”"
    assert speaker(text, "final") == ("Witkoff", "said", "before")


def test_a_title_after_according_to_runs_to_the_end_of_its_name() -> None:
    text = "“Moscow is testing NATO,” according to the head of the German Defense Ministry, in Berlin."
    assert speaker(text, "Moscow") == ("the head of the German Defense Ministry", "according to", "after")
