"""Prompt building: the article is a shared prefix of every call, the task comes last."""

from __future__ import annotations

import json

from factline.prompting import extraction_prompt, plan_extraction_calls, quote_candidates_for
from factline.recording import load_article_request
from schemas import ALL_ITEM_TYPES, ArticleFacts, ExtractionRequest, facts_model_for
from schemas.llm_output import merge_answers
from tests.conftest import ARTICLES, make_settings

ARTICLE = load_article_request(ARTICLES / "004_8dd281839903a95c.txt")


def test_per_type_calls_differ_only_in_their_last_message_so_the_article_is_cached_once() -> None:
    calls = plan_extraction_calls(ARTICLE, quote_candidates_for(ARTICLE), "per_type")
    assert len(calls) == 4
    assert all(call.messages[:-1] == calls[0].messages[:-1] for call in calls)
    assert calls[0].messages[0]["content"].startswith(extraction_prompt().system)
    assert [list(call.response_model.model_fields) for call in calls] == [
        ["actors", "quotes", "reported_quotes"],
        ["events"],
        ["positions"],
        ["proposals"],
    ]
    [single] = plan_extraction_calls(ARTICLE, quote_candidates_for(ARTICLE), "single")
    assert single.messages[:-1] == [  # no worked example: the article follows the rules
        {"role": "system", "content": extraction_prompt().system},
        calls[0].messages[-2],
    ]
    assert list(single.response_model.model_fields) == [
        "actors", "quotes", "reported_quotes", "events", "positions", "proposals"
    ]  # fmt: skip


def test_candidates_are_numbered_after_the_article_and_the_schema_asks_for_one_reading_each() -> None:
    candidates = quote_candidates_for(ARTICLE)
    [call] = plan_extraction_calls(ARTICLE, candidates, "single")
    article = call.messages[-2]["content"]
    assert "\n\nQuote candidates:\n1. “a lot of progress”\n" in article
    assert "\n6. “wouldn’t be worth much.”\n" in article
    quotes = call.response_model.model_json_schema()["properties"]["quotes"]
    assert quotes["minItems"] == quotes["maxItems"] == len(candidates) == 7


def test_a_request_without_quotes_shows_no_candidates() -> None:
    request = ExtractionRequest(text=ARTICLE.text, types=["event"])
    [call] = plan_extraction_calls(request, quote_candidates_for(request), "per_type")
    assert "Quote candidates" not in call.messages[-2]["content"]
    assert list(call.response_model.model_fields) == ["actors", "events"]
    assert call.messages[-1]["content"].startswith("Answer with JSON holding: actors, events.")


def test_the_worked_example_is_a_past_turn_whose_answer_fits_the_schema() -> None:
    [call, *_] = plan_extraction_calls(ARTICLE, quote_candidates_for(ARTICLE), "per_type")
    system, example, task, answer, article, _ = call.messages
    assert [m["role"] for m in call.messages] == ["system", "user", "user", "assistant", "user", "user"]
    assert extraction_prompt().version.startswith("extraction-v3+")
    assert "Lena Dahl" in example["content"]
    assert "Lena Dahl" not in system["content"] + article["content"]
    assert example["content"].endswith("3. “a first step.”")
    assert task["content"].startswith("Answer with JSON holding: actors, quotes, reported_quotes, events,")
    assert system["content"].endswith(extraction_prompt().section("worked example"))
    parsed = facts_model_for(ALL_ITEM_TYPES, candidates=3).model_validate_json(answer["content"])
    assert [q.kind for q in parsed.items("quotes")] == ["direct", "not_a_quote", "partial"]


def test_one_call_sends_each_list_s_instructions_once_and_no_worked_example() -> None:
    prompt = extraction_prompt()
    [call] = plan_extraction_calls(ARTICLE, quote_candidates_for(ARTICLE), "single")
    sent = "\n".join(message["content"] for message in call.messages)
    assert "Lena Dahl" not in sent
    assert prompt.section("worked example") not in sent
    for section in ("actors", "quote", "event", "position", "proposal"):
        assert sent.count(prompt.section(section)) == 1
        assert prompt.section(section) in call.messages[-1]["content"]


def test_the_embedded_model_gets_one_call_per_type_and_an_endpoint_one_call_unless_told() -> None:
    settings = make_settings(local_model="qwen2.5-coder-1.5b-instruct-q4_k_m")
    assert settings.call_plan == "single"
    assert settings.for_local_server("http://127.0.0.1:1/v1").call_plan == "per_type"
    told = make_settings(extraction_calls="single")
    assert told.for_local_server("http://127.0.0.1:1/v1").call_plan == "single"
    assert make_settings(extraction_calls="per_type").call_plan == "per_type"


def test_the_schema_sent_is_structure_only_with_every_limit_kept_and_no_reference() -> None:
    schema = facts_model_for(ALL_ITEM_TYPES, candidates=3).model_json_schema()
    sent = json.dumps(schema)
    for keyword in ('"$ref"', '"$defs"', '"anyOf"', '"title"', '"description"'):
        assert keyword not in sent
    quote = schema["properties"]["quotes"]
    assert quote["minItems"] == quote["maxItems"] == 3
    assert quote["items"]["properties"]["speaker"] == {"maxLength": 120, "type": ["string", "null"]}
    event = schema["properties"]["events"]["items"]
    assert event["properties"]["excerpt"] == {"maxLength": 300, "type": "string"}
    assert event["required"] == ["summary", "excerpt", "date_text", "location", "participants"]


def test_per_type_answers_merge_in_call_order_into_one_class_per_set_of_lists() -> None:
    calls = plan_extraction_calls(ARTICLE, quote_candidates_for(ARTICLE), "per_type")
    empty: dict[str, list[object]] = {
        "actors": [],
        "quotes": [],
        "reported_quotes": [],
        "events": [],
        "positions": [],
        "proposals": [],
    }
    event: dict[str, object] = {
        "summary": "Talks",
        "date_text": None,
        "location": None,
        "participants": [],
        "excerpt": "talks",
    }

    def answers(summary: str) -> list[ArticleFacts]:
        lists = empty | {"events": [event | {"summary": summary}]}
        return [call.response_model.model_validate(lists) for call in calls]

    first, second = merge_answers(answers("one")), merge_answers(answers("two"))
    assert list(type(first).model_fields) == [
        name for call in calls for name in call.response_model.model_fields
    ]
    assert [event.summary for event in first.items("events")] == ["one"]
    assert [event.summary for event in second.items("events")] == ["two"]
    assert type(first) is type(second)  # not a new pydantic class per extraction
