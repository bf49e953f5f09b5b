"""Assembly of a model answer into a result, without HTTP: the rules that need no LLM to check."""

from __future__ import annotations

from typing import Any

from factline.extraction import assemble_extraction
from factline.quote_candidates import find_quote_candidates
from schemas import ExtractionRequest, Usage, facts_model_for

TEXT = "Talks on December 14–15 in Berlin ended. On Monday, Kallas spoke."
NO_USAGE = Usage(prompt_tokens=0, completion_tokens=0, total_tokens=0, llm_calls=1)


def assemble(events: list[dict[str, Any]], published_at: str | None = "2025-12-17") -> dict[str, Any]:
    request = ExtractionRequest(text=TEXT, published_at=published_at, types=["event"])
    facts = facts_model_for(request.types).model_validate(
        {
            "actors": [{"name": "Kaja Kallas", "kind": "person", "roles": [], "mentions": ["Kallas"]}],
            "events": events,
        }
    )
    result = assemble_extraction(
        request, facts, usage=NO_USAGE, model="m", prompt_version="v", fuzzy_threshold=90
    )
    return result.model_dump(mode="json")


def models(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The model's events: the text's own dated sentence ("Talks on December 14–15 … ended") joins them."""
    return [event for event in events if event["found_by"] == "model"]


def event(excerpt: str, date_text: str | None) -> dict[str, Any]:
    return {"summary": "s", "excerpt": excerpt, "date_text": date_text, "location": None, "participants": []}


def test_a_date_range_the_model_cut_short_is_completed_from_the_text() -> None:
    [talks] = assemble([event("Talks on December 14–15 in Berlin ended", "December 14")])["events"]
    assert talks["date_text"] == "December 14–15"
    assert (talks["date"], talks["date_end"]) == ("2025-12-14", "2025-12-15")


def test_date_text_is_the_articles_own_writing() -> None:
    [monday] = models(assemble([event("Kallas spoke", "on monday")])["events"])
    assert monday["date_text"] == "On Monday"
    assert monday["date"] == "2025-12-15"


def test_the_string_null_from_a_small_model_is_no_date() -> None:
    result = assemble([event("Kallas spoke", "null")])
    assert models(result["events"])[0]["date_text"] is None
    assert result["warnings"] == []


def test_without_publication_date_a_relative_date_is_kept_as_text_but_not_resolved() -> None:
    result = assemble([event("Kallas spoke", "On Monday")], published_at=None)
    [monday] = models(result["events"])
    assert (monday["date"], monday["date_text"]) == (None, "On Monday")
    assert [w["code"] for w in result["warnings"]] == ["unresolved_date"]


BLOCK = (
    "Kallas spoke to reporters.\n"
    "“We will not wait for anyone. Europe has to act.”\n"
    "– Kaja Kallas\n"
    "She called the “Plan for Prosperity” “a good start” and said that talks would go on."
)


def assemble_quotes(readings: list[dict[str, Any]], reported: list[dict[str, Any]]) -> dict[str, Any]:
    request = ExtractionRequest(text=BLOCK, types=["quote"])
    candidates = find_quote_candidates(BLOCK)
    facts = facts_model_for(request.types, candidates=len(candidates)).model_validate(
        {"actors": [], "quotes": readings, "reported_quotes": reported}
    )
    result = assemble_extraction(
        request,
        facts,
        candidates=candidates,
        usage=NO_USAGE,
        model="m",
        prompt_version="v",
        fuzzy_threshold=90,
    )
    return result.model_dump(mode="json")


def test_candidates_read_as_quotes_keep_their_exact_offsets_and_others_are_left_out() -> None:
    result = assemble_quotes(
        [
            {"n": 1, "kind": "direct", "speaker": None},
            {"n": 2, "kind": "not_a_quote", "speaker": None},
            {"n": 3, "kind": "partial", "speaker": "Kallas"},
        ],
        [{"text": "talks would go on", "speaker": "Kallas", "kind": "indirect", "verb": "said"}],
    )
    quotes = result["quotes"]
    assert [(q["text"], q["kind"]) for q in quotes] == [
        ("We will not wait for anyone. Europe has to act.", "direct"),
        ("a good start", "partial"),
        ("talks would go on", "indirect"),
    ]
    for quote in quotes:
        span = quote["evidence"][0]
        assert BLOCK[span["start"] : span["end"]] == quote["text"]
    [kallas] = result["actors"]
    assert kallas["name"] == "Kaja Kallas"  # the block's "– Kaja Kallas" line, when the model names nobody
    assert {q["speaker_id"] for q in quotes} == {kallas["id"]}
    assert result["warnings"] == []


def test_a_candidate_read_twice_out_of_range_or_not_at_all_is_warned_about() -> None:
    result = assemble_quotes(
        [{"n": 1, "kind": "direct", "speaker": None}, {"n": 1, "kind": "direct", "speaker": None},
         {"n": 7, "kind": "direct", "speaker": None}],
        [{"text": "Europe has to act", "speaker": None, "kind": "direct", "verb": None}],
    )  # fmt: skip
    warnings = [(w["code"], w["item"]) for w in result["warnings"]]
    assert warnings == [
        ("duplicate", "quotes[1]"),
        ("ungrounded", "quotes[2]"),
        ("unread", "candidates[2]"),
        ("unread", "candidates[3]"),
        ("duplicate", "reported_quotes[0]"),  # a candidate already holds these words
    ]
    assert len(result["quotes"]) == 1


def test_words_in_quotation_marks_read_as_no_quote_are_not_kept_when_reported_again() -> None:
    result = assemble_quotes(
        [{"n": 1, "kind": "direct", "speaker": None}, {"n": 2, "kind": "not_a_quote", "speaker": None},
         {"n": 3, "kind": "not_a_quote", "speaker": None}],
        [{"text": "Plan for Prosperity", "speaker": "Kallas", "kind": "indirect", "verb": "said"}],
    )  # fmt: skip
    assert [q["text"] for q in result["quotes"]] == ["We will not wait for anyone. Europe has to act."]
    [warning] = result["warnings"]
    assert (warning["code"], warning["item"]) == ("duplicate", "reported_quotes[0]")
    assert warning["message"].startswith("repeats quotes[1], read as no quote: “Plan for Prosperity”")


def test_a_quote_whose_speaker_the_text_names_needs_no_reading_and_keeps_that_speaker() -> None:
    """A block followed by "– Name": the model that skips it or names someone else changes nothing."""
    for readings in ([], [{"n": 1, "kind": "direct", "speaker": "Europe"}]):
        result = assemble_quotes(readings, [])
        [quote] = [q for q in result["quotes"] if q["text"].startswith("We will not wait")]
        assert quote["kind"] == "direct"
        speaker = next(a for a in result["actors"] if a["id"] == quote["speaker_id"])
        assert speaker["name"] == "Kaja Kallas"
        assert ("unread", "candidates[1]") not in [(w["code"], w["item"]) for w in result["warnings"]]


def test_a_role_the_article_does_not_give_is_a_warning_not_a_fact() -> None:
    request = ExtractionRequest(text=TEXT, types=["event"])
    facts = facts_model_for(request.types).model_validate(
        {
            "actors": [
                {
                    "name": "Kallas",
                    "kind": "person",
                    "roles": ["EU foreign policy chief"],
                    "mentions": [],
                }
            ],
            "events": [],
        }
    )
    result = assemble_extraction(
        request, facts, usage=NO_USAGE, model="m", prompt_version="v", fuzzy_threshold=90
    )
    [kallas] = result.actors
    assert kallas.roles == []
    assert [(w.code, w.item) for w in result.warnings] == [("ungrounded", "actors[0]")]
    assert "EU foreign policy chief" in result.warnings[0].message
