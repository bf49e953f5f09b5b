"""The README's cross-article commands, verbatim, against a real uvicorn server, with the recorded LLM
answers of the five sample articles replayed for llm.test."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pytest_httpx import HTTPXMock

from factline.settings import Settings
from tests.conftest import ARTICLES, RECORDINGS, LiveServer, load_recording, samples_settings
from tests.e2e.test_batches_readme import json_documents, run
from tests.e2e.test_live_server import readme_view_commands

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not all(map(shutil.which, ["curl", "jq"])), reason="needs curl and jq"),
]


@pytest.fixture
def settings() -> Settings:
    """The calls the sample recordings were made with."""
    return samples_settings()


def test_readme_view_commands(live_server: LiveServer, httpx_mock: HTTPXMock) -> None:
    [block] = readme_view_commands()
    for path in RECORDINGS:
        load_recording(Path(path)).replay(httpx_mock)

    output = run(block, live_server)
    actors, december, second_page, proposals, *position_lines = json_documents(output)

    [pistorius] = actors["actors"]
    assert pistorius["key"] == "boris pistorius"
    assert pistorius["article_count"] == 5
    assert len(pistorius["quotes"]) == 2 < pistorius["quote_count"]  # `facts=2` in the README
    dates = [quote["date"] for quote in pistorius["quotes"]]
    assert dates == sorted(dates)
    for quote in pistorius["quotes"]:
        text = (ARTICLES / quote["source"]["article_id"]).read_text("utf-8")
        for span in quote["source"]["evidence"]:
            assert text[span["start"] : span["end"]] == span["text"]

    assert december["events"]
    assert all("2025-12-01" <= event["date"] <= "2025-12-31" for event in december["events"])
    assert len(second_page["events"]) == 2
    # Oldest first: an event without a date of its own stands at its article's publication day.
    places = [
        event["date"] or event["sources"][0]["source"]["published_at"] for event in second_page["events"]
    ]
    assert places == sorted(places)

    assert proposals["proposals"]
    assert all("nato" in json.dumps(p).lower() for p in proposals["proposals"])

    [positions] = position_lines  # NDJSON: one actor per line
    assert positions["actor"]["key"] == "boris pistorius"
    assert positions["topics"]
