"""`factline serve` as a real process, sent SIGTERM while a slow LLM call is in flight: the single
request in flight still gets its answer, and the batch items in flight go back to the queue at once,
not when their leases would run out."""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from factline.local_llm import free_port
from tests.batch_support import ndjson
from tests.e2e.test_batches_crash import environment, service, wait_for
from tests.fakes.fake_llm import running_fake_llm

pytestmark = pytest.mark.e2e

ARTICLE = "Health minister Anna Keller said on Tuesday that the plan was “a step forward for every patient”."
SINGLE_SECONDS = 3
LEASE_SECONDS = 60


def held_items(database: Path) -> list[tuple[str, str | None]]:
    """(status, lease owner) of every batch item, read from the database file itself."""
    with sqlite3.connect(database) as connection:
        return list(connection.execute("SELECT status, lease_owner FROM batch_items ORDER BY position"))


def test_sigterm_finishes_requests_in_flight_and_hands_batch_items_back(tmp_path: Path) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    database = tmp_path / "factline.db"
    with running_fake_llm() as llm:
        env = environment(port, database, llm) | {
            "FACTLINE_BATCH_LEASE_SECONDS": str(LEASE_SECONDS),
            "FACTLINE_BATCH_CONCURRENCY": "2",
            "FACTLINE_SHUTDOWN_GRACE_SECONDS": "20",
        }
        log = tmp_path / "service.log"
        with service(env, tmp_path, log) as process:
            batch = ndjson(
                [{"id": f"slow-{n}", "text": f"{ARTICLE} {n} FAKE-LLM:slow:120"} for n in range(4)]
            )
            submitted = httpx.post(f"{base_url}/v1/batches", content=batch, timeout=10)
            assert submitted.status_code == 202, submitted.text
            # Two at the LLM, two claimed beside them (`batch_jobs`).
            wait_for(base_url, submitted.json()["id"], lambda b: b["counts"]["running"] == 4)

            answer: dict[str, httpx.Response] = {}
            single = threading.Thread(
                target=lambda: answer.update(
                    response=httpx.post(
                        f"{base_url}/v1/extractions",
                        json={"text": f"{ARTICLE} FAKE-LLM:slow:{SINGLE_SECONDS}"},
                        timeout=30,
                    )
                )
            )
            single.start()
            deadline = time.monotonic() + 10
            while llm.completions() < 3:  # two batch items and the single request are at the LLM
                assert time.monotonic() < deadline, llm.stats()
                time.sleep(0.05)

            signalled = time.monotonic()
            os.kill(process.pid, signal.SIGTERM)
            deadline = time.monotonic() + 5
            while any(owner is not None for _, owner in held_items(database)):
                assert time.monotonic() < deadline, held_items(database)
                time.sleep(0.05)
            handed_back = time.monotonic() - signalled
            assert process.poll() is None  # still finishing the single request

            single.join(timeout=30)
            # uvicorn re-raises the signal once it has shut down cleanly: the exit says SIGTERM.
            assert process.wait(timeout=20) == -signal.SIGTERM, log.read_text()
            assert "Application shutdown complete" in log.read_text()
            items_after = held_items(database)

    response = answer["response"]
    assert response.status_code == 200, response.text
    assert response.json()["quotes"][0]["text"] == "a step forward for every patient"
    assert handed_back < SINGLE_SECONDS  # before the request in flight had finished
    assert items_after == [("queued", None)] * 4
