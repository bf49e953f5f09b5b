"""Dated events read off an article's own sentences, on short authored texts; then through assembly,
where they join the model's events without repeating them."""

from __future__ import annotations

from datetime import date

import pytest

from factline.event_cues import dated_events
from factline.extraction import assemble_extraction
from factline.quote_candidates import find_quote_candidates
from factline.speech_cues import ArticleCues
from schemas import ExtractionRequest, FoundBy, Usage, facts_model_for


def events(text: str) -> list[tuple[str, str, str | None]]:
    """(sentence, date as written, location) of each dated event."""
    quoted = [(c.start - 1, c.end + 1) for c in find_quote_candidates(text)]
    return [
        (text[event.start : event.end], event.date_text, event.location)
        for event in dated_events(ArticleCues(text, quoted))
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "On March 3, the two mayors met in Tromsø to sign the harbour treaty.",
            ("On March 3, the two mayors met in Tromsø to sign the harbour treaty", "March 3", "Tromsø"),
        ),
        (
            "Talks on the tariff resumed in Geneva on Tuesday.",
            ("Talks on the tariff resumed in Geneva on Tuesday", "Tuesday", "Geneva"),
        ),
        (
            "Ministers gathered in Oslo Friday, and a summit is planned.",
            ("Ministers gathered in Oslo Friday, and a summit is planned", "Friday", "Oslo"),
        ),
        (
            "April 4–5 saw a round of negotiations between the two unions.",
            ("April 4–5 saw a round of negotiations between the two unions", "April 4–5", None),
        ),
    ],
)
def test_a_sentence_naming_a_day_and_what_was_done_is_an_event(
    text: str, expected: tuple[str, str, str | None]
) -> None:
    assert events(text) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "The mayors met in Tromsø to sign the treaty.",  # no day
        "On March 3, the mayor said the harbour is too small.",  # a day, but only a saying
        "Kiel said: “We met on Monday and agreed on everything.”",  # the quote's words, not a report
        "The harbour may open in May.",  # "May" without a day is no date
    ],
)
def test_no_event_without_a_day_and_something_done(text: str) -> None:
    assert events(text) == []


def test_dated_events_join_the_models_where_none_of_its_stands() -> None:
    text = (
        "Ola Berg met Anne Kiel in Bergen on Monday. They shook hands.\n"
        "On March 3, the council held talks with Ola Berg."
    )
    request = ExtractionRequest(text=text, types=["event"], published_at="2025-03-12")
    answer = {
        "actors": [
            {"name": "Ola Berg", "kind": "person", "roles": [], "mentions": []},
            {"name": "Anne Kiel", "kind": "person", "roles": [], "mentions": []},
        ],
        "events": [
            {
                "summary": "Berg met Kiel",
                "excerpt": "Ola Berg met Anne Kiel in Bergen",
                "date_text": "on Monday",
                "location": "Bergen",
                "participants": ["Ola Berg", "Anne Kiel"],
            }
        ],
    }
    facts = facts_model_for(request.types).model_validate(answer)
    usage = Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0, llm_calls=1)
    result = assemble_extraction(
        request, facts, usage=usage, model="m", prompt_version="v", fuzzy_threshold=90
    )
    names = {actor.id: actor.name for actor in result.actors}
    found = [
        (event.found_by, event.date, event.evidence[0].text, [names[i] for i in event.participant_ids])
        for event in result.events
    ]
    # The Monday meeting is the model's already (its excerpt stands in the sentence); March 3 is added.
    assert found == [
        (FoundBy.MODEL, date(2025, 3, 10), "Ola Berg met Anne Kiel in Bergen", ["Ola Berg", "Anne Kiel"]),
        (FoundBy.TEXT, date(2025, 3, 3), "On March 3, the council held talks with Ola Berg", ["Ola Berg"]),
    ]
    assert result.events[1].summary == "On March 3, the council held talks with Ola Berg"
