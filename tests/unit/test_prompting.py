"""Prompt building: the article is a shared prefix of every call, the task comes last."""

from __future__ import annotations

from factline.prompting import extraction_prompt, plan_extraction_calls, quote_candidates_for
from factline.recording import load_article_request
from schemas import ExtractionRequest
from tests.conftest import ARTICLES

ARTICLE = load_article_request(ARTICLES / "004_8dd281839903a95c.txt")


def test_per_type_calls_differ_only_in_their_last_message_so_the_article_is_cached_once() -> None:
    calls = plan_extraction_calls(ARTICLE, quote_candidates_for(ARTICLE), "per_type")
    assert len(calls) == 4
    assert all(call.messages[:2] == calls[0].messages[:2] for call in calls)
    assert calls[0].messages[0]["content"] == extraction_prompt().system
    assert [list(call.response_model.model_fields) for call in calls] == [
        ["actors", "quotes", "reported_quotes"],
        ["events"],
        ["positions"],
        ["proposals"],
    ]
    [single] = plan_extraction_calls(ARTICLE, quote_candidates_for(ARTICLE), "single")
    assert single.messages[:2] == calls[0].messages[:2]
    assert list(single.response_model.model_fields) == [
        "actors", "quotes", "reported_quotes", "events", "positions", "proposals"
    ]  # fmt: skip


def test_candidates_are_numbered_after_the_article_and_the_schema_asks_for_one_reading_each() -> None:
    candidates = quote_candidates_for(ARTICLE)
    [call] = plan_extraction_calls(ARTICLE, candidates, "single")
    article = call.messages[1]["content"]
    assert "\n\nQuote candidates:\n1. “a lot of progress”\n" in article
    assert "\n6. “wouldn’t be worth much.”\n" in article
    quotes = call.response_model.model_json_schema()["properties"]["quotes"]
    assert quotes["minItems"] == quotes["maxItems"] == len(candidates) == 7


def test_a_request_without_quotes_shows_no_candidates() -> None:
    request = ExtractionRequest(text=ARTICLE.text, types=["event"])  # type: ignore[arg-type]
    [call] = plan_extraction_calls(request, quote_candidates_for(request), "per_type")
    assert "Quote candidates" not in call.messages[1]["content"]
    assert list(call.response_model.model_fields) == ["actors", "events"]
    assert call.messages[2]["content"].startswith("Answer with JSON holding: actors, events.")


def test_prompt_sections_come_from_one_versioned_file() -> None:
    prompt = extraction_prompt()
    assert prompt.version.startswith("extraction-v2+")
    assert "Example article:" in prompt.system
    assert "## " not in prompt.system
    assert prompt.section("quote").startswith("quotes: one entry per numbered candidate")
