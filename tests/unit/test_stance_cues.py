"""Stances and proposals read off an article's own wording, on short authored sentences; then through
assembly, where they join the model's items without repeating them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from factline.extraction import assemble_extraction
from factline.quote_candidates import find_quote_candidates
from factline.speech_cues import ArticleCues
from factline.stance_cues import stated_facts
from schemas import ExtractionRequest, FoundBy, Usage, facts_model_for


def stated(text: str) -> list[tuple[str, str, str, str]]:
    """(kind, subject as written, topic, clause) of each stated fact."""
    quoted = [(c.start - 1, c.end + 1) for c in find_quote_candidates(text)]
    return [
        (fact.kind, fact.subject.speaker, fact.topic, text[fact.start : fact.end])
        for fact in stated_facts(ArticleCues(text, quoted))
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mayor Anne Kiel criticized the budget cuts, saying they hurt schools.",
            ("oppose", "Anne Kiel", "the budget cuts", "Mayor Anne Kiel criticized the budget cuts"),
        ),
        (
            "On Tuesday, Mia Lund welcomed the new tram line.",
            ("support", "Mia Lund", "the new tram line", "Mia Lund welcomed the new tram line"),
        ),
        (
            "The Unite union said on Friday that Unite has proposed that shifts end at six.",
            ("proposal", "Unite", "shifts end at six", "Unite has proposed that shifts end at six"),
        ),
        (
            "Trade Minister Ola Berg offered a compromise: lower tariffs on steel.",
            (
                "proposal",
                "Ola Berg",
                "a compromise: lower tariffs on steel",
                "Trade Minister Ola Berg offered a compromise: lower tariffs on steel",
            ),
        ),
        (
            "She called for talks between Oslo – Bern – Riga, her office said.",
            (
                "proposal",
                "She",
                "talks between Oslo – Bern – Riga",
                "She called for talks between Oslo – Bern – Riga",
            ),
        ),
    ],
)
def test_a_verb_states_its_subjects_stance_or_proposal(
    text: str, expected: tuple[str, str, str, str]
) -> None:
    assert stated(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "Ola Berg did not reject the offer.",  # negated
        "The plan was rejected by the board.",  # passive: the subject is not who rejected it
        "Ministers gathered in Geneva demanded a seat at the table.",  # a place is no subject
        "The deal meets some Nordic demands and offers little else.",  # nouns, not verbs
        "Nobody knows whether it was proposed, as Berg proposed, or not.",  # no object after the verb
        "Prices rejected by buyers fell.",  # no subject the text names
        "“We rejected the offer,” said Ola Berg.",  # inside a quote: the quote's business
    ],
)
def test_nothing_is_read_where_the_text_states_no_stance(text: str) -> None:
    assert stated(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "On Friday, Finance Minister Ola Berg said it was “simply wrong” to raise taxes before the vote.",
            (
                "oppose",
                "Ola Berg",
                "to raise taxes before the vote",
                "Finance Minister Ola Berg said it was “simply wrong” to raise taxes before the vote",
            ),
        ),
        (
            "Anne Kiel said the city has “never objected” to a second bridge.",
            (
                "support",
                "Anne Kiel",
                "to a second bridge",
                "Anne Kiel said the city has “never objected” to a second bridge",
            ),
        ),
        (
            "Ola Berg described the tariff as “a mistake,” adding that talks go on.",
            ("oppose", "Ola Berg", "the tariff", "Ola Berg described the tariff as “a mistake,”"),
        ),
        (
            "“It has to pass,” Kiel said, adding that a bridge without rail “wouldn’t be worth much.”",
            (
                "oppose",
                "Kiel",
                "a bridge without rail",
                "Kiel said, adding that a bridge without rail “wouldn’t be worth much.”",
            ),
        ),
    ],
)
def test_a_short_quoted_judgement_states_its_speakers_stance(
    text: str, expected: tuple[str, str, str, str]
) -> None:
    assert stated(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "Ola Berg said the budget was “fair and balanced” for now.",  # no judgement word
        "The report called the plan “wrong”.",  # nobody the text names said it
        "Ola Berg said: “It would be wrong to stop now, and wrong to go on without the unions at all.”",
    ],
)
def test_other_quotes_state_no_stance(text: str) -> None:
    assert stated(text) == []


ARTICLE = (
    "Mayor Anne Kiel criticized the budget cuts on Monday. "
    "Ola Berg has proposed that the tram line be built first.\n"
    "Ola Berg backed the plan."
)


def assemble(
    types: list[str],
    positions: Sequence[Mapping[str, object]],
    proposals: Sequence[Mapping[str, object]] = (),
) -> dict[str, Any]:
    request = ExtractionRequest(text=ARTICLE, types=types)
    answer = {
        "actors": [
            {"name": "Anne Kiel", "kind": "person", "roles": ["mayor"], "mentions": []},
            {"name": "Ola Berg", "kind": "person", "roles": [], "mentions": []},
        ],
        "reported_quotes": [],
        "quotes": [],
        "events": [],
        "positions": positions,
        "proposals": list(proposals),
    }
    facts = facts_model_for(request.types).model_validate(
        {key: value for key, value in answer.items() if key in facts_model_for(request.types).model_fields}
    )
    usage = Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0, llm_calls=1)
    result = assemble_extraction(
        request, facts, usage=usage, model="m", prompt_version="v", fuzzy_threshold=90
    )
    return result.model_dump(mode="json")


def test_stated_positions_and_proposals_join_the_models_without_repeating_them() -> None:
    model_position = {
        "holder": "Ola Berg",
        "topic": "the plan",
        "stance": "support",
        "summary": "Berg supports the plan.",
        "excerpt": "Ola Berg backed the plan",
    }
    result = assemble(["position", "proposal"], [model_position])
    actors = {actor["id"]: actor["name"] for actor in result["actors"]}
    positions = [
        (actors[p["holder_id"]], p["stance"], p["topic"], p["found_by"]) for p in result["positions"]
    ]
    # Berg's backing is the model's item already: the text's reading of the same clause is not added.
    assert positions == [
        ("Anne Kiel", "oppose", "the budget cuts", FoundBy.TEXT),
        ("Ola Berg", "support", "the plan", FoundBy.MODEL),
    ]
    [proposal] = result["proposals"]
    assert proposal["summary"] == "the tram line be built first"
    assert proposal["found_by"] == FoundBy.TEXT
    assert (
        proposal["evidence"][0]["text"]
        == ARTICLE[proposal["evidence"][0]["start"] : proposal["evidence"][0]["end"]]
    )


def test_a_model_proposal_about_what_the_text_states_gives_way_to_the_texts_reading() -> None:
    """The model's item names the same plan in the same words, with evidence and a proposer the text
    does not give it: the text's own clause and subject replace them, and the model's item is a warning."""
    model_proposal = {
        "summary": "The tram line be built first",
        "excerpt": "Mayor Anne Kiel criticized the budget cuts",
        "proposers": ["Anne Kiel"],
        "supporters": [],
        "opponents": [],
        "status": "proposed",
    }
    result = assemble(["proposal"], [], [model_proposal])
    actors = {actor["id"]: actor["name"] for actor in result["actors"]}
    [proposal] = result["proposals"]
    assert (proposal["found_by"], [actors[i] for i in proposal["proposer_ids"]]) == (
        FoundBy.TEXT,
        ["Ola Berg"],
    )
    assert proposal["evidence"][0]["text"] == "Ola Berg has proposed that the tram line be built first"
    [warning] = result["warnings"]
    assert (warning["code"], warning["item"]) == ("duplicate", "proposals[0]")


def test_types_not_asked_for_are_not_read_off_the_text() -> None:
    result = assemble(["quote"], [])
    assert (result["positions"], result["proposals"]) == ([], [])
