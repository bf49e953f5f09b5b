"""Titles and pronouns resolve to the named person, on sentences of the sample articles."""

from __future__ import annotations

from factline.actors import ActorDirectory
from factline.coreference import content_stems, is_descriptor, role_context
from factline.grounding import ArticleIndex
from schemas import MatchKind, Span
from schemas.llm_output import ModelActor
from tests.conftest import ARTICLES

ART_000 = (ARTICLES / "000_38688fb7183b1fa4.txt").read_text("utf-8")
ART_001 = (ARTICLES / "001_c0f1db72d73447e2.txt").read_text("utf-8")
ART_004 = (ARTICLES / "004_8dd281839903a95c.txt").read_text("utf-8")


def person(name: str, *mentions: str, kind: str = "person") -> ModelActor:
    return ModelActor(name=name, kind=kind, roles=[], mentions=list(mentions))


def directory(text: str, *actors: ModelActor) -> ActorDirectory:
    found = ActorDirectory(ArticleIndex(text))
    found.add(actors)
    return found


def span(text: str, excerpt: str) -> Span:
    start = text.index(excerpt)
    return Span(start=start, end=start + len(excerpt), text=excerpt, match=MatchKind.EXACT, score=100.0)


def name_of(found: ActorDirectory, actor_id: str | None) -> str | None:
    return next((a.name for a in found.actors() if a.id == actor_id), None)


def test_descriptors_are_titles_after_the_not_names() -> None:
    assert is_descriptor("the minister")
    assert is_descriptor("The head of the German Defense Ministry")
    assert is_descriptor("the German chancellor")
    assert not is_descriptor("the United States")
    assert not is_descriptor("the Defense Ministry")
    assert not is_descriptor("Pistorius")
    assert content_stems("the head of the German Defense Ministry") == content_stems(
        "German Defence Minister"
    )


def test_role_context_reads_the_title_before_and_the_apposition_after_a_name() -> None:
    start = ART_001.index("Boris Pistorius")
    context = role_context(ART_001, start, start + len("Boris Pistorius"))
    assert "Germany’s Minister of Defense" in context
    start = ART_000.index("Boris Pistorius")
    assert "German Defense Minister" in role_context(ART_000, start, start + len("Boris Pistorius"))


def test_he_after_a_named_speaker_in_the_same_paragraph_is_that_speaker() -> None:
    # 000: "Pistorius answered with a warning: … He stressed that any agreement would require …"
    found = directory(ART_000, person("Boris Pistorius", "Pistorius"), person("Zelensky"))
    evidence = span(ART_000, "any agreement would require clear conditions and robust assurances for Ukraine")
    speaker = found.resolve("He", evidence)
    assert name_of(found, speaker) == "Boris Pistorius"
    [pistorius] = [a for a in found.actors() if a.id == speaker]
    he = ART_000.index("He stressed")
    assert any(m.start == he and m.text == "He" for m in pistorius.mentions)


def test_the_minister_resolves_by_role_even_with_nobody_named_in_the_paragraph() -> None:
    # 000: "Yes, there is a danger and I hope it does not happen, the minister added during the briefing."
    found = directory(ART_000, person("Boris Pistorius", "Pistorius"), person("Zelensky"))
    speaker = found.resolve(
        "the minister", span(ART_000, "Yes, there is a danger and I hope it does not happen")
    )
    assert name_of(found, speaker) == "Boris Pistorius"
    holder = found.resolve(
        "The minister", span(ART_000, "Ukraine could become a permanent source of new conflicts")
    )
    assert holder == speaker
    assert len(found.actors()) == 2


def test_the_head_of_the_ministry_is_the_minister_the_article_introduced() -> None:
    # 001: "Boris Pistorius, Germany’s Minister of Defense, …" then "The head of the German Defense
    # Ministry also stressed that …"
    found = directory(
        ART_001,
        person("Boris Pistorius", "Pistorius"),
        person("Vladimir Putin", "Putin"),
        person("Rustem Umerov"),
    )
    speaker = found.resolve(
        "the head of the German Defense Ministry",
        span(ART_001, "European countries have expressed willingness to create multinational forces"),
    )
    assert name_of(found, speaker) == "Boris Pistorius"


def test_a_model_actor_that_is_a_title_joins_the_person_and_adds_its_mentions() -> None:
    found = directory(
        ART_001,
        person("Boris Pistorius", "Pistorius"),
        person("The head of the German Defense Ministry"),
        person("Vladimir Putin", "Putin"),
    )
    assert [a.name for a in found.actors()] == ["Boris Pistorius", "Vladimir Putin"]
    [pistorius, _] = found.actors()
    assert "The head of the German Defense Ministry" in [m.text for m in pistorius.mentions]
    assert found.resolve("The head of the German Defense Ministry") == pistorius.id


def test_a_generic_title_is_the_person_named_last_before_it_not_one_named_inside_the_quote() -> None:
    # 001: "Pistorius emphasized that … According to the official, the only person who can immediately
    # stop the fighting is Vladimir Putin."
    found = directory(ART_001, person("Boris Pistorius", "Pistorius"), person("Vladimir Putin", "Putin"))
    speaker = found.resolve(
        "the official",
        span(ART_001, "the only person who can immediately stop the fighting is Vladimir Putin"),
    )
    assert name_of(found, speaker) == "Boris Pistorius"


def test_he_after_a_quote_is_the_person_named_before_the_quote() -> None:
    # 004: "German Defense Minister Boris Pistorius called it … “But as they say, you can only dance with the
    # people on the dance floor,” he added"
    found = directory(
        ART_004, person("Boris Pistorius", "Pistorius"), person("Friedrich Merz"), person("Steve Witkoff")
    )
    speaker = found.resolve(
        "he", span(ART_004, "But as they say, you can only dance with the people on the dance floor")
    )
    assert name_of(found, speaker) == "Boris Pistorius"


def test_a_pronoun_with_nobody_named_earlier_in_its_paragraph_stays_unresolved() -> None:
    # 001: "Despite the efforts of the United States, European countries, and Ukraine, Moscow, he said,
    # is not …"
    found = directory(ART_001, person("Boris Pistorius", "Pistorius"))
    assert found.resolve("he", span(ART_001, "is not even prepared for a temporary ceasefire")) is None
    assert found.resolve("he") is None


def test_a_title_that_fits_nobody_and_has_nobody_before_it_stays_unresolved() -> None:
    found = directory(ART_000, person("Boris Pistorius", "Pistorius"))
    assert found.resolve("the president", span(ART_000, "Observers note that by mid November")) is None


TWO_NAMESAKES = (
    "Boris Pistorius spoke in Berlin on Monday. Pistorius said the budget was too small.\n"
    "Maria Pistorius, a teacher, answered on Tuesday. Pistorius said schools needed the money more.\n"
    "Both spoke again later. Pistorius was not available for comment."
)


def test_a_shared_surname_resolves_only_with_a_full_name_earlier_in_the_paragraph() -> None:
    found = directory(TWO_NAMESAKES, person("Boris Pistorius"), person("Maria Pistorius"))
    boris, maria = (a.id for a in found.actors())
    assert found.resolve("Pistorius", span(TWO_NAMESAKES, "the budget was too small")) == boris
    assert found.resolve("Pistorius", span(TWO_NAMESAKES, "schools needed the money more")) == maria
    assert found.resolve("Pistorius", span(TWO_NAMESAKES, "was not available for comment")) is None
    assert len(found.actors()) == 2
