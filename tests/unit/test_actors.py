"""Actors: one per person or organisation, grounded in the text, addressable by any of their names."""

from __future__ import annotations

from factline.actors import ActorDirectory, actor_key
from factline.grounding import ArticleIndex
from schemas.llm_output import ModelActor

TEXT = (
    "German Defense Minister Boris Pistorius spoke in Berlin. Pistorius said the minister's view was clear. "
    "Maria Pistorius, a teacher, disagreed. NATO officials and Kaja Kallas of the EU listened; he left."
)


def actor(
    name: str, kind: str = "person", mentions: list[str] | None = None, roles: list[str] | None = None
) -> ModelActor:
    return ModelActor(name=name, kind=kind, roles=roles or [], mentions=mentions or [])


def directory(*actors: ModelActor) -> ActorDirectory:
    found = ActorDirectory(ArticleIndex(TEXT))
    found.add(actors)
    return found


def test_actor_key_folds_articles_case_and_possessives() -> None:
    assert actor_key("The EU") == actor_key("EU") == "eu"
    assert actor_key("Pistorius’s") == "pistorius"


def test_mentions_are_grounded_and_nested_ones_collapse() -> None:
    found = directory(
        actor("Boris Pistorius", mentions=["Pistorius", "German Defense Minister Boris Pistorius"])
    )
    [pistorius] = found.actors()
    texts = [m.text for m in pistorius.mentions]
    # "Boris Pistorius" inside the longer title mention is the same mention; "Maria Pistorius" is not him,
    # but the bare surname inside her name is a whole word too and is kept: the merge rule decides, not this.
    assert texts[0] == "German Defense Minister Boris Pistorius"
    assert "Boris Pistorius" not in texts
    assert all(TEXT[m.start : m.end] == m.text for m in pistorius.mentions)


def test_a_lone_surname_entry_merges_into_the_one_full_name_that_has_it() -> None:
    found = directory(actor("Boris Pistorius"), actor("Pistorius", roles=["minister"]))
    [pistorius] = found.actors()
    assert pistorius.name == "Boris Pistorius"
    assert pistorius.roles == ["minister"]


def test_two_people_sharing_a_surname_are_never_merged() -> None:
    found = directory(actor("Boris Pistorius"), actor("Maria Pistorius"))
    assert [a.name for a in found.actors()] == ["Boris Pistorius", "Maria Pistorius"]
    # A bare surname is then ambiguous: it resolves to neither, and no third actor appears.
    assert found.resolve("Pistorius") is None
    assert len(found.actors()) == 2


def test_resolve_by_name_mention_or_unique_surname() -> None:
    found = directory(actor("Boris Pistorius", mentions=["the minister"]), actor("Kaja Kallas"))
    pistorius = found.resolve("Boris Pistorius")
    assert pistorius is not None
    assert found.resolve("the minister") == pistorius
    assert found.resolve("Pistorius") == pistorius
    assert found.resolve("Kallas") == found.resolve("Kaja Kallas") != pistorius


def test_names_the_text_does_not_contain_do_not_become_actors() -> None:
    found = directory(actor("Olaf Scholz"), actor("NATO", kind="organization"))
    assert [a.name for a in found.actors()] == ["NATO"]
    assert found.resolve("Olaf Scholz") is None
    assert found.resolve("Emmanuel Macron") is None


def test_a_name_only_the_text_knows_is_added_when_referenced() -> None:
    found = directory(actor("Boris Pistorius"))
    eu = found.resolve("the EU")
    assert eu is not None
    assert [a.name for a in found.actors()] == ["Boris Pistorius", "the EU"]


def test_pronouns_are_not_mentions() -> None:
    found = directory(actor("Kaja Kallas", mentions=["he", "she"]))
    [kallas] = found.actors()
    assert [m.text for m in kallas.mentions] == ["Kaja Kallas"]
    assert found.resolve("he") is None


def test_ids_have_no_gaps_when_an_actor_is_dropped() -> None:
    found = directory(actor("Kaja Kallas"), actor("Invented Person"), actor("Boris Pistorius"))
    assert [(a.id, a.name) for a in found.actors()] == [
        ("actor_1", "Kaja Kallas"),
        ("actor_2", "Boris Pistorius"),
    ]


def test_a_titled_name_and_the_plain_name_are_one_actor_with_the_title_as_role() -> None:
    found = directory(actor("German Defense Minister Boris Pistorius"))
    assert found.resolve("Boris Pistorius") == found.resolve("German Defense Minister Boris Pistorius")
    [pistorius] = found.actors()
    assert pistorius.name == "Boris Pistorius"
    assert pistorius.roles == ["German Defense Minister"]


def test_a_title_the_model_put_before_a_name_it_also_gives_plain_becomes_a_role() -> None:
    found = directory(actor("Defense Minister Boris Pistorius", mentions=["Boris Pistorius", "Pistorius"]))
    [pistorius] = found.actors()
    assert pistorius.name == "Boris Pistorius"
    assert pistorius.roles == ["Defense Minister"]


def test_roles_the_text_does_not_give_are_not_returned() -> None:
    """The model's "EU foreign policy chief" is not in the text; "German Defense Minister" is."""
    found = directory(
        actor("Kaja Kallas", roles=["EU foreign policy chief"]),
        actor(
            "Federal Minister Boris Pistorius",
            mentions=["Boris Pistorius"],
            roles=["German Defense Minister"],
        ),
    )
    assert {a.name: a.roles for a in found.actors()} == {
        "Kaja Kallas": [],
        "Boris Pistorius": ["German Defense Minister"],
    }


def test_abbreviations_are_not_pronouns() -> None:
    found = ActorDirectory(ArticleIndex("The US and the UK met. It was short; us, we said."))
    assert found.resolve("US") is not None
    assert found.resolve("It") is None
    assert found.resolve("us") is None


def test_a_name_with_its_apposition_does_not_replace_the_name() -> None:
    """The model listed the institute among the person's mentions, then named him with it."""
    text = "The deal is wise, argued George Beebe of the Quincy Institute. Beebe has long said so."
    found = ActorDirectory(ArticleIndex(text))
    found.add([actor("George Beebe", mentions=["Quincy Institute"])])
    assert found.resolve("George Beebe of the Quincy Institute") == found.resolve("George Beebe")
    [beebe] = found.actors()
    assert beebe.name == "George Beebe"
