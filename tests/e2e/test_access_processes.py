"""Access control, rate limit and logs of real `factline serve` processes.

Two processes that name the same rate-limit directory share one count per key; the JSON log lines a
process writes to stderr carry the request id and none of the article text or the API key.
"""

from __future__ import annotations

import hashlib
import json
import signal
from pathlib import Path

import httpx
import pytest

from factline.local_llm import free_port
from tests.e2e.test_batches_crash import environment, service
from tests.fakes.fake_llm import RunningFakeLLM, running_fake_llm

pytestmark = pytest.mark.e2e

KEY = "fl-e2e-key-5b3f0c1d"
# Start-up (imports, migrations) takes seconds alone and far more with the rest of the suite running.
STARTUP_SECONDS = 90
SECRET_SENTENCE = "The harbour master Ingrid Valstad said the pier would close “for good” on Friday."


def keyed_environment(tmp_path: Path, name: str, llm_base_url: str, **extra: str) -> dict[str, str]:
    """A service of its own (port, database) that needs KEY."""
    base = environment(free_port(), tmp_path / f"{name}.db", RunningFakeLLM(llm_base_url))
    return {**base, "FACTLINE_API_KEY_SHA256": hashlib.sha256(KEY.encode()).hexdigest(), **extra}


def test_two_processes_share_one_rate_limit_per_key(tmp_path: Path) -> None:
    shared = tmp_path / "rate-limit"
    limit = {"FACTLINE_RATE_LIMIT_PER_MINUTE": "5", "FACTLINE_RATE_LIMIT_DIR": str(shared)}
    # Nothing listens on port 9: these processes never call their LLM.
    first_env = keyed_environment(tmp_path, "first", "http://127.0.0.1:9/v1", **limit)
    second_env = keyed_environment(tmp_path, "second", "http://127.0.0.1:9/v1", **limit)
    headers = {"Authorization": f"Bearer {KEY}"}
    with (
        service(first_env, tmp_path, tmp_path / "first.log", STARTUP_SECONDS),
        service(second_env, tmp_path, tmp_path / "second.log", STARTUP_SECONDS),
    ):
        urls = [f"http://127.0.0.1:{env['FACTLINE_PORT']}/v1/batches" for env in (first_env, second_env)]
        answers = [httpx.get(urls[n % 2], headers=headers, timeout=10) for n in range(6)]
        assert [a.status_code for a in answers] == [200, 200, 200, 200, 200, 429]
        # Each process saw three requests; the count they report is of all five.
        assert [a.headers["ratelimit-remaining"] for a in answers[:5]] == ["4", "3", "2", "1", "0"]
        assert answers[5].json()["type"] == "urn:factline:problem:rate-limited"
        assert int(answers[5].headers["retry-after"]) >= 1
        # No process of its own: a process with a private count would still let this key through.
        assert httpx.get(urls[1], headers=headers, timeout=10).status_code == 429


def test_log_lines_are_json_with_the_request_id_and_no_article_text_or_key(tmp_path: Path) -> None:
    log = tmp_path / "serve.log"
    with running_fake_llm() as llm:
        env = keyed_environment(tmp_path, "logs", llm.base_url)
        base_url = f"http://127.0.0.1:{env['FACTLINE_PORT']}"
        headers = {"Authorization": f"Bearer {KEY}"}
        with service(env, tmp_path, log, STARTUP_SECONDS) as process:
            extracted = httpx.post(
                f"{base_url}/v1/extractions",
                json={"text": SECRET_SENTENCE, "title": "Pier closes"},
                headers={**headers, "X-Request-ID": "e2e-extract-1"},
                timeout=30,
            )
            assert extracted.status_code == 200, extracted.text
            assert extracted.headers["x-request-id"] == "e2e-extract-1"
            refused = httpx.post(
                f"{base_url}/v1/extractions",
                json={"text": SECRET_SENTENCE},
                headers={"Authorization": "Bearer not-the-key"},
                timeout=30,
            )
            assert refused.status_code == 401
            invalid = httpx.post(
                f"{base_url}/v1/extractions", json={"text": SECRET_SENTENCE, "colour": 1}, headers=headers
            )
            assert invalid.status_code == 422
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)

    lines = [line for line in log.read_text("utf-8").splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    assert all({"time", "level", "logger", "message", "request_id"} <= set(r) for r in records), records
    access = [r for r in records if r["logger"] == "factline.access"]
    assert all(r["request_id"] for r in access), access  # the readiness polls too
    posts = [r for r in access if "POST" in r["message"]]
    assert [r["request_id"] for r in posts] == [
        "e2e-extract-1",
        refused.headers["x-request-id"],
        invalid.headers["x-request-id"],
    ], access
    assert [r["status"] for r in posts] == [200, 401, 422], posts
    assert all(r["duration_ms"] > 0 and '"POST /v1/extractions HTTP/1.1"' in r["message"] for r in posts)
    assert not [r for r in records if r["logger"] == "uvicorn.access"]  # one access line per request
    assert all(r["request_id"] is None for r in records if r["logger"] != "factline.access")
    text = log.read_text("utf-8")
    for secret in (SECRET_SENTENCE, "Ingrid Valstad", "harbour master", KEY, "not-the-key"):
        assert secret not in text
