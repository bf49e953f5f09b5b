"""Every LLM fault through the real HTTP API: the service under uvicorn on a loopback port, its LLM the
fake OpenAI-compatible server in its own process, scripted per test. Each test checks the status and
problem type, how many attempts the fake saw, waits, what `usage` bills, and that the service still
extracts afterwards."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from factline.settings import Settings
from tests.batch_support import ndjson
from tests.conftest import LiveServer, make_settings
from tests.fakes.fake_llm import INVENTED_QUOTE, INVENTED_SPEAKER, RunningFakeLLM, running_fake_llm

pytestmark = pytest.mark.e2e

ARTICLE = (
    "Health minister Anna Keller said on Monday that the hospital plan was “a real step forward for "
    "every patient in the region”. Opposition leader Tomas Brandt called it “an expensive promise "
    "that nobody has costed”. The parliament will vote on the plan next month."
)
RETRIES = 2
TIMEOUT_SECONDS = 1.0
CIRCUIT_FAILURES = 3
COOLDOWN_SECONDS = 2.0


@pytest.fixture(scope="module")
def fake() -> Iterator[RunningFakeLLM]:
    with running_fake_llm() as running:
        yield running


@pytest.fixture
def settings(fake: RunningFakeLLM, request: pytest.FixtureRequest) -> Settings:
    """Batches on SQLite (factline's own queue), or with `indirect` "postgresql" on procrastinate."""
    fake.reset()
    database = getattr(request, "param", "sqlite")
    return make_settings(
        **({"database_url": request.getfixturevalue("postgres_url")} if database == "postgresql" else {}),
        llm_base_url=fake.base_url,
        llm_max_retries=RETRIES,
        llm_retry_backoff_seconds=0.05,
        llm_retry_budget_seconds=5,
        llm_timeout_seconds=TIMEOUT_SECONDS,
        llm_circuit_failure_threshold=CIRCUIT_FAILURES,
        llm_circuit_cooldown_seconds=COOLDOWN_SECONDS,
    )


def extract(server: LiveServer, text: str = ARTICLE) -> httpx.Response:
    return httpx.post(f"{server.base_url}/v1/extractions", json={"text": text}, timeout=30)


def problem(response: httpx.Response, status: int, slug: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = dict(response.json())
    assert body["type"] == f"urn:factline:problem:{slug}", body
    return body


def assert_still_serving(server: LiveServer, fake: RunningFakeLLM) -> None:
    fake.script(default="ok")
    response = extract(server, ARTICLE + " Still serving.")
    assert response.status_code == 200, response.text
    assert response.json()["quotes"]


def billed(fake: RunningFakeLLM) -> tuple[int, int]:
    tokens = fake.stats()["tokens"]
    return tokens.get("prompt_tokens", 0), tokens.get("completion_tokens", 0)


def test_rate_limit_is_retried_after_retry_after(live_server: LiveServer, fake: RunningFakeLLM) -> None:
    fake.script("rate_limit:1")
    started = time.monotonic()
    response = extract(live_server)
    assert response.status_code == 200, response.text
    assert time.monotonic() - started >= 1.0  # the provider's Retry-After, not the 50 ms backoff
    assert fake.stats()["by_fault"] == {"rate_limit": 1, "ok": 1}
    assert response.json()["usage"]["llm_calls"] == 1  # one completion; the 429 cost no tokens


def test_persistent_rate_limit_ends_in_429_with_retry_after(
    live_server: LiveServer, fake: RunningFakeLLM
) -> None:
    fake.script(default="rate_limit:1")
    started = time.monotonic()
    body = problem(extract(live_server), 429, "llm-rate-limited")
    assert time.monotonic() - started >= RETRIES * 1.0
    assert body["retry_after"] == 1
    assert fake.stats()["by_fault"] == {"rate_limit": RETRIES + 1}
    assert_still_serving(live_server, fake)


def test_retry_after_beyond_the_budget_goes_to_the_client_at_once(
    live_server: LiveServer, fake: RunningFakeLLM
) -> None:
    fake.script(default="rate_limit:60")
    started = time.monotonic()
    response = extract(live_server)
    problem(response, 429, "llm-rate-limited")
    assert time.monotonic() - started < 5  # waiting 60 s would break the 5 s budget: no retry
    assert response.headers["retry-after"] == "60"
    assert fake.stats()["by_fault"] == {"rate_limit": 1}
    assert_still_serving(live_server, fake)


@pytest.mark.parametrize(
    ("fault", "status", "slug"),
    [
        ("error_500", 502, "llm-output-unusable"),
        ("error_503", 503, "llm-unavailable"),
        ("reset", 503, "llm-unavailable"),
    ],
)
def test_server_errors_and_resets_are_retried_then_answered(
    live_server: LiveServer, fake: RunningFakeLLM, fault: str, status: int, slug: str
) -> None:
    fake.script(default=fault)
    body = problem(extract(live_server), status, slug)
    assert fake.stats()["by_fault"] == {fault: RETRIES + 1}
    assert body["usage"]["total_tokens"] == 0  # no answer arrived, nothing was billed
    assert_still_serving(live_server, fake)


def test_transient_failures_recover_within_the_retries(live_server: LiveServer, fake: RunningFakeLLM) -> None:
    fake.script("error_503", "reset")
    response = extract(live_server)
    assert response.status_code == 200, response.text
    assert fake.stats()["by_fault"] == {"error_503": 1, "reset": 1, "ok": 1}


def test_a_hang_past_the_timeout_is_504_and_not_retried(
    live_server: LiveServer, fake: RunningFakeLLM
) -> None:
    fake.script("hang:30")
    started = time.monotonic()
    problem(extract(live_server), 504, "llm-timeout")
    assert TIMEOUT_SECONDS <= time.monotonic() - started < TIMEOUT_SECONDS + 3
    assert fake.stats()["by_fault"] == {"hang": 1}
    assert_still_serving(live_server, fake)


@pytest.mark.parametrize("fault", ["truncated", "invalid_schema"])
def test_broken_output_is_re_asked_and_every_attempt_is_billed(
    live_server: LiveServer, fake: RunningFakeLLM, fault: str
) -> None:
    fake.script(fault)
    response = extract(live_server)
    assert response.status_code == 200, response.text
    assert fake.stats()["by_fault"] == {fault: 1, "ok": 1}
    usage = response.json()["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == billed(fake)
    assert usage["llm_calls"] == 2


@pytest.mark.parametrize("fault", ["truncated", "invalid_schema", "refusal"])
def test_output_that_stays_broken_is_502_with_its_cost(
    live_server: LiveServer, fake: RunningFakeLLM, fault: str
) -> None:
    fake.script(default=fault)
    body = problem(extract(live_server), 502, "llm-output-unusable")
    assert fake.stats()["by_fault"] == {fault: 2}  # the first answer and one re-ask, no transport retry
    usage = body["usage"]
    assert (usage["prompt_tokens"], usage["completion_tokens"]) == billed(fake)
    assert usage["llm_calls"] == 2
    if fault == "refusal":
        assert "refused" in body["detail"]
    assert_still_serving(live_server, fake)


def test_quotes_not_in_the_article_are_dropped_with_warnings(
    live_server: LiveServer, fake: RunningFakeLLM
) -> None:
    fake.script("ungrounded")
    response = extract(live_server)
    assert response.status_code == 200, response.text
    extraction = response.json()
    assert extraction["quotes"]
    assert all(quote["text"] != INVENTED_QUOTE for quote in extraction["quotes"])
    assert all(actor["name"] != INVENTED_SPEAKER for actor in extraction["actors"])
    dropped = " ".join(w["message"] for w in extraction["warnings"] if w["code"] == "ungrounded")
    assert INVENTED_QUOTE[:20] in dropped
    assert INVENTED_SPEAKER in dropped
    for quote in extraction["quotes"]:
        assert quote["text"] in ARTICLE


def ready(server: LiveServer) -> httpx.Response:
    return httpx.get(f"{server.base_url}/ready", timeout=10)


def test_circuit_opens_fails_fast_probes_and_closes(live_server: LiveServer, fake: RunningFakeLLM) -> None:
    assert ready(live_server).json()["llm"]["circuit"]["state"] == "closed"
    fake.script(default="error_503")
    for _ in range(CIRCUIT_FAILURES):
        problem(extract(live_server), 503, "llm-unavailable")
    attempts = fake.completions()
    assert attempts == CIRCUIT_FAILURES * (RETRIES + 1)

    started = time.monotonic()
    response = extract(live_server)
    body = problem(response, 503, "llm-circuit-open")
    assert time.monotonic() - started < 0.5  # fails fast
    assert fake.completions() == attempts  # the LLM was not called
    assert 1 <= int(response.headers["retry-after"]) <= COOLDOWN_SECONDS
    assert body["retry_after"] == int(response.headers["retry-after"])
    readiness = ready(live_server)
    assert readiness.status_code == 503
    assert readiness.json()["status"] == "not_ready"
    assert readiness.json()["llm"]["reachable"] is True  # it answers its model listing, yet fails calls
    circuit = readiness.json()["llm"]["circuit"]
    assert circuit["state"] == "open"
    assert circuit["consecutive_failures"] == CIRCUIT_FAILURES

    time.sleep(COOLDOWN_SECONDS + 0.1)
    assert ready(live_server).json()["llm"]["circuit"]["state"] == "half_open"
    fake.script(default="error_503")
    problem(extract(live_server), 503, "llm-unavailable")  # the probe fails: open again
    assert ready(live_server).json()["llm"]["circuit"]["state"] == "open"
    assert fake.completions() == attempts + RETRIES + 1

    time.sleep(COOLDOWN_SECONDS + 0.1)
    fake.script(default="ok")
    assert extract(live_server).status_code == 200  # the probe succeeds: closed
    readiness = ready(live_server)
    assert readiness.status_code == 200
    assert readiness.json()["llm"]["circuit"] == {
        "state": "closed",
        "consecutive_failures": 0,
        "retry_after": None,
    }


def finished_batch(server: LiveServer, articles: list[dict[str, str]]) -> dict[str, dict[str, Any]]:
    """Submit a batch, wait for it to finish, and return its result lines by article id."""
    submitted = httpx.post(f"{server.base_url}/v1/batches", content=ndjson(articles), timeout=30)
    assert submitted.status_code == 202, submitted.text
    batch_url = f"{server.base_url}/v1/batches/{submitted.json()['id']}"
    deadline = time.monotonic() + 60
    while (batch := httpx.get(batch_url, timeout=10).json())["status"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, batch
        time.sleep(0.1)
    lines = httpx.get(f"{batch_url}/results?follow=false", timeout=30).text.splitlines()
    return {line["article_id"]: line for line in map(json.loads, lines)}


@pytest.mark.parametrize(
    ("fault", "attempts", "status", "slug"),
    [
        ("error_500", RETRIES + 1, 502, "llm-output-unusable"),
        ("error_503", RETRIES + 1, 503, "llm-unavailable"),
        ("rate_limit:0", RETRIES + 1, 429, "llm-rate-limited"),
        ("hang:30", 1, 504, "llm-timeout"),
        ("invalid_schema", 2, 502, "llm-output-unusable"),
    ],
)
def test_a_poisoned_article_fails_alone_in_its_batch(
    live_server: LiveServer, fake: RunningFakeLLM, fault: str, attempts: int, status: int, slug: str
) -> None:
    articles = [{"id": f"good-{n}", "text": f"{ARTICLE} Item {n}."} for n in range(4)]
    articles.insert(2, {"id": "poisoned", "text": f"{ARTICLE} FAKE-LLM:{fault}"})
    results = finished_batch(live_server, articles)
    assert len(results) == 5
    poisoned = results.pop("poisoned")
    assert poisoned["status"] == "failed"
    assert poisoned["problem"]["type"] == f"urn:factline:problem:{slug}"
    assert poisoned["problem"]["status"] == status
    assert {line["status"] for line in results.values()} == {"succeeded"}
    assert fake.stats()["by_fault"] == {fault.partition(":")[0]: attempts, "ok": 4}
    assert_still_serving(live_server, fake)


@pytest.mark.parametrize("settings", ["sqlite", "postgresql"], indirect=True)
def test_an_open_circuit_sends_batch_items_back_to_the_queue(
    live_server: LiveServer, fake: RunningFakeLLM
) -> None:
    fake.script(default="error_503")
    for _ in range(CIRCUIT_FAILURES):
        problem(extract(live_server), 503, "llm-unavailable")
    attempts = fake.completions()
    submitted = httpx.post(
        f"{live_server.base_url}/v1/batches",
        content=ndjson([{"id": f"held-{n}", "text": f"{ARTICLE} Held {n}."} for n in range(3)]),
        timeout=30,
    )
    assert submitted.status_code == 202, submitted.text
    batch_url = f"{live_server.base_url}/v1/batches/{submitted.json()['id']}"
    time.sleep(COOLDOWN_SECONDS / 2)
    held = httpx.get(batch_url, timeout=10).json()
    assert held["counts"]["failed"] == 0  # not the items' fault: none failed
    assert held["counts"]["succeeded"] == 0
    assert fake.completions() == attempts  # and the LLM was left alone

    fake.script(default="ok")
    deadline = time.monotonic() + 30
    while (batch := httpx.get(batch_url, timeout=10).json())["status"] != "completed":
        assert time.monotonic() < deadline, batch
        time.sleep(0.1)
    assert batch["counts"]["succeeded"] == 3
