"""GET /metrics on a real server: the counters move with what the service did."""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from pytest_httpx import HTTPXMock

from factline.local_llm import free_port
from factline.settings import Settings
from tests.batch_support import article_text, llm_answers_every_article, ndjson
from tests.conftest import LiveServer, authored, make_settings
from tests.e2e.test_batches_crash import FACTLINE

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
def settings() -> Settings:
    """One transport retry, so a 500 followed by an answer counts as a retry."""
    return make_settings(llm_max_retries=1)


def scrape(server: LiveServer) -> Samples:
    response = httpx.get(f"{server.base_url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"] == CONTENT_TYPE_LATEST
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def requests_to(samples: Samples, path: str, status: int) -> float:
    labels = {"app_name": "factline", "method": "POST", "path": path, "status_code": str(status)}
    return value(samples, "factline_requests_total", **labels)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def test_requests_llm_calls_tokens_retries_and_cache_hits_are_counted(
    live_server: LiveServer, httpx_mock: HTTPXMock
) -> None:
    url = f"{live_server.base_url}/v1/extractions"
    before = scrape(live_server)

    example = authored("actor_titles_pronouns")  # one call, as the other fixtures here
    example.replay(httpx_mock)
    first = httpx.post(url, json=example.request_json(), timeout=30).json()
    repeat = httpx.post(url, json=example.request_json(), timeout=30).json()
    assert repeat["cached"] is True
    assert httpx.post(url, json={"text": ""}, timeout=30).status_code == 422
    reask = authored("reask_then_valid")
    reask.replay(httpx_mock)
    assert httpx.post(url, json=reask.request_json(), timeout=30).status_code == 200
    authored("server_error").replay(httpx_mock)  # a 500, then the OpenAI client's retry gets an answer
    grounding = authored("grounding_cases")
    grounding.replay(httpx_mock)
    assert httpx.post(url, json=grounding.request_json(), timeout=30).status_code == 200

    after = scrape(live_server)
    assert requests_to(after, "/v1/extractions", 200) - requests_to(before, "/v1/extractions", 200) == 4
    assert requests_to(after, "/v1/extractions", 422) - requests_to(before, "/v1/extractions", 422) == 1
    assert moved(before, after, "factline_extraction_cache_lookups_total", result="hit") == 1
    assert moved(before, after, "factline_extraction_cache_lookups_total", result="miss") == 3
    assert moved(before, after, "factline_llm_calls_total") == 4  # one, a re-ask pair, one after a 500
    assert moved(before, after, "factline_llm_retries_total", kind="reask") == 1
    assert moved(before, after, "factline_llm_retries_total", kind="transport") == 1
    prompt_tokens = moved(before, after, "factline_llm_tokens_total", kind="prompt")
    assert prompt_tokens > first["usage"]["prompt_tokens"] > 0
    latency = "factline_request_duration_seconds_count"
    labels = {"app_name": "factline", "method": "POST", "path": "/v1/extractions", "status_code": "200"}
    assert moved(before, after, latency, **labels) == 4


def test_batch_items_and_queue_depth(live_server: LiveServer, httpx_mock: HTTPXMock) -> None:
    llm_answers_every_article(httpx_mock)
    before = scrape(live_server)
    archive = ndjson([{"id": f"a{n}", "text": article_text(n)} for n in range(3)])
    batch = httpx.post(f"{live_server.base_url}/v1/batches", content=archive, timeout=30).json()
    deadline = time.monotonic() + 30
    while True:
        batch = httpx.get(f"{live_server.base_url}/v1/batches/{batch['id']}", timeout=10).json()
        if not batch["counts"]["pending"]:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)

    after = scrape(live_server)
    assert moved(before, after, "factline_batch_items_finished_total", status="succeeded") == 3
    assert value(after, "factline_batch_queue_depth", state="queued") == 0
    # Routes with ids are one series each, not one per batch.
    labels = {
        "app_name": "factline",
        "method": "GET",
        "path": "/v1/batches/{batch_id}",
        "status_code": "200",
    }
    assert value(after, "factline_requests_total", **labels) >= 1


@pytest.mark.parametrize("settings", [make_settings(batch_workers_in_process=False)])
def test_queue_depth_counts_items_nobody_works_on(live_server: LiveServer) -> None:
    archive = ndjson([{"id": f"q{n}", "text": article_text(n)} for n in range(4)])
    assert httpx.post(f"{live_server.base_url}/v1/batches", content=archive, timeout=30).status_code == 202
    samples = scrape(live_server)
    assert value(samples, "factline_batch_queue_depth", state="queued") == 4
    assert value(samples, "factline_batch_queue_depth", state="running") == 0


@pytest.mark.parametrize("operator_dir", [True, False], ids=["operator's directory", "supervisor's own"])
def test_metrics_add_up_across_web_processes(postgres_url: str, tmp_path: Path, operator_dir: bool) -> None:
    """As README "Running in production" runs it: `factline serve` with FACTLINE_WEB_PROCESSES=2; the
    counters go to PROMETHEUS_MULTIPROC_DIR when the operator sets it, else to a directory of its own."""
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    env = {name: value for name, value in os.environ.items() if not name.startswith("FACTLINE_")}
    env |= {
        "FACTLINE_PORT": str(port),
        "FACTLINE_WEB_PROCESSES": "2",
        "FACTLINE_DATABASE_URL": postgres_url,
        "FACTLINE_LLM_BASE_URL": "http://127.0.0.1:9/v1",  # never called here
        "FACTLINE_BATCH_WORKERS_IN_PROCESS": "false",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    if operator_dir:
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    env["TMPDIR"] = str(tmp_path)  # where the supervisor makes its own directory
    with (tmp_path / "serve.log").open("wb") as log:
        server = subprocess.Popen([str(FACTLINE), "serve"], env=env, stdout=log, stderr=log)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        answered = 0
        while answered == 0:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            assert time.monotonic() < deadline
            with contextlib.suppress(httpx.TransportError):
                answered += httpx.get(f"{base_url}/health", timeout=2).status_code == 200
            time.sleep(0.1)
        time.sleep(2)  # the second process is up too
        # Each request on a new connection: the kernel hands them to either process.
        answered += sum(httpx.get(f"{base_url}/health", timeout=5).status_code == 200 for _ in range(40))
        counters = metrics_dir if operator_dir else next(tmp_path.glob("factline-metrics-*"))
        assert len(list(counters.glob("counter_*.db"))) == 2  # one file per process
        health = {"app_name": "factline", "method": "GET", "path": "/health", "status_code": "200"}
        assert value(scrape(LiveServer(base_url, port)), "factline_requests_total", **health) == answered
    finally:
        server.terminate()
        assert server.wait(timeout=30) == 0
    assert not list(tmp_path.glob("factline-metrics-*"))  # the supervisor's own is removed when it stops
    assert metrics_dir.is_dir() == operator_dir  # the operator's is theirs to keep
