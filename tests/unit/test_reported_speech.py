"""Reported speech on short authored sentences, and the speakers the cues name resolved to actors."""

from __future__ import annotations

import pytest

from factline.actors import ActorDirectory
from factline.grounding import ArticleIndex
from factline.quote_candidates import find_quote_candidates
from factline.reported_speech import find_reported_speech
from factline.speech_cues import ArticleCues, SpeechCue
from schemas import ActorKind
from schemas.llm_output import ModelActor


def quoted(text: str) -> list[tuple[int, int]]:
    return [(c.start - 1, c.end + 1) for c in find_quote_candidates(text)]


def statements(text: str) -> list[tuple[str, str, bool]]:
    return [
        (text[found.start : found.end], found.cue.speaker, found.direct)
        for found in find_reported_speech(ArticleCues(text, quoted(text)))
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "In a press conference, he explained that diplomacy might be possible.",
            ("diplomacy might be possible", "he", False),
        ),
        (
            "Ushakov said on Monday that the sides have not reached a compromise.",
            ("the sides have not reached a compromise", "Ushakov", False),
        ),
        (
            "Pistorius said it would have been better to talk first.",
            ("it would have been better to talk first", "Pistorius", False),
        ),
        (
            "Pistorius answered with a warning: there is a danger and I hope it does not happen.",
            ("there is a danger and I hope it does not happen", "Pistorius", True),
        ),
        (
            "According to the official, the only person who can stop it is Putin.",
            ("the only person who can stop it is Putin", "the official", False),
        ),
        (
            "Yes, there is a danger and I hope it does not happen, the minister added during the briefing.",
            ("Yes, there is a danger and I hope it does not happen", "the minister", True),
        ),
    ],
)
def test_a_cue_frames_the_statement_it_reports(text: str, expected: tuple[str, str, bool]) -> None:
    assert statements(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "Senior officials said that the talks had failed again.",  # nobody named
        "Observers note that the mood had shifted toward talks.",  # no verb of saying
        "He urged careful steps to avoid eroding Western unity.",  # no statement framed
        "The meeting was described as productive by all sides.",
        "Pistorius said it was “fundamentally wrong” to discuss troops.",  # the quote's sentence
        "They argued that negotiations must respect Ukraine’s borders.",  # "they" is nobody in particular
        "Pistorius said it.",  # too short to be a statement
    ],
)
def test_sentences_that_report_no_named_speakers_statement(text: str) -> None:
    assert statements(text) == []


def test_one_statement_per_sentence_in_text_order() -> None:
    text = (
        "Umerov said that the talks were productive. Zelensky noted that progress depends on Russia, "
        "but stressed that pressure must rise."
    )
    assert [speaker for _, speaker, _ in statements(text)] == ["Umerov", "Zelensky"]


ARTICLE = (
    "German Defense Minister Boris Pistorius met Anna Keller in Berlin. "
    "“Zelensky has shown courage,” he said. Kaja Kallas told reporters that Europe must pay for it. "
    "The killing was “revenge,” according to Reuters."
)


def directory(*actors: ModelActor) -> ActorDirectory:
    found = ActorDirectory(ArticleIndex(ARTICLE))
    found.add(actors)
    return found


def person(name: str, kind: str = "person") -> ModelActor:
    return ModelActor(name=name, kind=kind, roles=[], mentions=[])


def cue_for(words: str) -> SpeechCue | None:
    [candidate] = [c for c in find_quote_candidates(ARTICLE) if c.text.startswith(words)]
    return ArticleCues(ARTICLE, quoted(ARTICLE)).of_words(candidate.start, candidate.end)


def test_a_pronoun_after_a_quote_is_the_person_named_before_it_outside_the_quote() -> None:
    actors = directory(person("Boris Pistorius"), person("Anna Keller"), person("Volodymyr Zelensky"))
    cue = cue_for("Zelensky has")
    assert cue is not None
    speaker_id = actors.resolve_speaker(cue, quoted(ARTICLE))
    [keller] = [a for a in actors.actors() if a.name == "Anna Keller"]
    assert speaker_id == keller.id  # not Zelensky, named inside the quote
    assert "he" in [m.text for m in keller.mentions]


def test_a_full_name_the_model_did_not_list_becomes_a_grounded_person() -> None:
    actors = directory(person("Boris Pistorius"))
    [statement] = find_reported_speech(ArticleCues(ARTICLE, quoted(ARTICLE)))
    speaker_id = actors.resolve_speaker(statement.cue, quoted(ARTICLE))
    [kallas] = [a for a in actors.actors() if a.id == speaker_id]
    assert (kallas.name, kallas.kind) == ("Kaja Kallas", ActorKind.PERSON)
    assert [(m.start, m.text) for m in kallas.mentions] == [(ARTICLE.index("Kaja Kallas"), "Kaja Kallas")]


def test_according_to_names_a_person_not_a_news_agency() -> None:
    cue = cue_for("revenge")
    assert cue is not None
    assert cue.speaker == "Reuters"
    assert directory(person("Reuters", kind="organization")).resolve_speaker(cue, quoted(ARTICLE)) is None
    assert directory(person("Boris Pistorius")).resolve_speaker(cue, quoted(ARTICLE)) is None  # unknown


def test_a_lone_capitalised_word_names_only_an_actor_already_known() -> None:
    text = "Observers said that the mood had shifted toward talks."
    [statement] = find_reported_speech(ArticleCues(text, []))
    assert statement.cue.person is None
    actors = ActorDirectory(ArticleIndex(text))
    actors.add([person("Olaf Scholz")])
    assert actors.resolve_speaker(statement.cue, []) is None
    assert [a.name for a in actors.actors()] == []  # Scholz is not in the text; "Observers" is nobody
