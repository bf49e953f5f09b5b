"""`factline serve` as a real process, killed with SIGKILL in the middle of a batch and started again.

Every article must end up in the results exactly once: none lost with the dead process, none
reported twice because an attempt that already had its answer was repeated.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from factline.local_llm import free_port
from tests.batch_support import article_text, ndjson
from tests.fakes.fake_llm import RunningFakeLLM, running_fake_llm

pytestmark = pytest.mark.e2e

ARTICLES = 30
FACTLINE = Path(sys.executable).parent / "factline"


@contextmanager
def service(
    env: dict[str, str], cwd: Path, log: Path, startup_seconds: float = 20
) -> Iterator[subprocess.Popen[bytes]]:
    """`factline serve`, up and answering /health; killed at the end if still running."""
    with log.open("ab") as output:
        process = subprocess.Popen([str(FACTLINE), "serve"], env=env, cwd=cwd, stdout=output, stderr=output)
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{env['FACTLINE_PORT']}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def wait_for(base_url: str, batch_id: str, done: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        batch = dict(httpx.get(f"{base_url}/v1/batches/{batch_id}", timeout=5).json())
        if done(batch):
            return batch
        assert time.monotonic() < deadline, batch
        time.sleep(0.05)


def result_lines(base_url: str, batch_id: str, query: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{base_url}/v1/batches/{batch_id}/results{query}", timeout=60)
    assert response.status_code == 200, response.text
    return [json.loads(line) for line in response.text.splitlines()]


def environment(port: int, database: Path, llm: RunningFakeLLM) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("FACTLINE_")}
    return {
        **env,
        "FACTLINE_HOST": "127.0.0.1",
        "FACTLINE_PORT": str(port),
        "FACTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "FACTLINE_LLM_BASE_URL": llm.base_url,
        "FACTLINE_LLM_MODEL": "qwen2.5-coder-1.5b-instruct-q4_k_m",
        "FACTLINE_LLM_MAX_RETRIES": "0",
        "FACTLINE_LOCAL_MODEL": "none",
        "FACTLINE_BATCH_CONCURRENCY": "3",
        "FACTLINE_BATCH_LEASE_SECONDS": "1",
        "FACTLINE_BATCH_POLL_SECONDS": "0.05",
    }


# What the restarted service logs as it takes the dead process's items back.
TAKEN_BACK = {
    "sqlite": "with expired leases to the queue",  # factline's own queue: leases that ran out
    "postgresql": "jobs of workers that stopped",  # procrastinate: jobs of a worker without heartbeat
}


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_kill_9_mid_batch_loses_and_duplicates_nothing(
    tmp_path: Path, database: str, request: pytest.FixtureRequest
) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    expected = {f"article-{n}" for n in range(ARTICLES)}
    body = ndjson([{"id": f"article-{n}", "text": article_text(n)} for n in range(ARTICLES)])
    with running_fake_llm(latency_ms=200) as llm:
        env = environment(port, tmp_path / "factline.db", llm)
        if database == "postgresql":
            env["FACTLINE_DATABASE_URL"] = request.getfixturevalue("postgres_url")
            env["FACTLINE_LOG_LEVEL"] = "INFO"
        log = tmp_path / "service.log"
        with service(env, tmp_path, log) as first:
            response = httpx.post(f"{base_url}/v1/batches", content=body, timeout=10)
            assert response.status_code == 202, response.text
            batch_id = response.json()["id"]
            wait_for(
                base_url, batch_id, lambda b: b["counts"]["succeeded"] >= 8 and b["counts"]["running"] > 0
            )
            seen_before = result_lines(base_url, batch_id, "?follow=false")
            os.kill(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
        asked_before_restart = llm.completions()
        assert 8 <= len(seen_before) < ARTICLES

        with service(env, tmp_path, log):
            final = wait_for(base_url, batch_id, lambda b: b["counts"]["pending"] == 0)
            everything = result_lines(base_url, batch_id, "")
            resumed = result_lines(base_url, batch_id, f"?after={seen_before[-1]['cursor']}")
        asked_in_all = llm.completions()

    assert final["status"] == "completed"
    assert final["counts"]["succeeded"] == ARTICLES
    assert final["counts"]["failed"] == 0
    assert sorted(line["article_id"] for line in everything) == sorted(expected)
    assert len({line["item_id"] for line in everything}) == ARTICLES
    assert all(line["status"] == "succeeded" for line in everything)
    # The client that read some lines before the crash continues after its cursor and misses nothing.
    assert seen_before + resumed == everything
    # The articles in flight at the kill were asked again (or served from the cache); nothing else was.
    assert asked_in_all >= ARTICLES
    assert asked_in_all - ARTICLES <= asked_before_restart - len(seen_before)
    assert TAKEN_BACK[database] in log.read_text()
