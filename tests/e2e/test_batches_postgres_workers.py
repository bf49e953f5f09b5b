"""Scaling out on a real PostgreSQL: the HTTP service without in-process workers, and `factline worker`
processes sharing the queue. One is killed with SIGKILL mid-batch and the other finishes its items;
one stopped with SIGTERM hands its items back at once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from factline.local_llm import free_port
from tests.batch_support import article_text, ndjson
from tests.e2e.test_batches_crash import FACTLINE, environment, result_lines, service, wait_for
from tests.fakes.fake_llm import RunningFakeLLM, running_fake_llm
from tests.postgres import PostgresServer

pytestmark = pytest.mark.e2e


def shared_environment(port: int, database_url: str, llm: RunningFakeLLM, **extra: str) -> dict[str, str]:
    env = environment(port, Path("unused.db"), llm)
    env.update(
        FACTLINE_DATABASE_URL=database_url,
        FACTLINE_BATCH_WORKERS_IN_PROCESS="false",
        FACTLINE_LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


@contextmanager
def workers(env: dict[str, str], cwd: Path, *logs: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`factline worker` processes, started together and yielded once all run; killed at the end."""
    processes = []
    for log in logs:
        with log.open("ab") as output:
            processes.append(
                subprocess.Popen([str(FACTLINE), "worker"], env=env, cwd=cwd, stdout=output, stderr=output)
            )
    try:
        deadline = time.monotonic() + 20
        for process, log in zip(processes, logs, strict=True):
            while "batch worker running" not in log.read_text():
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.05)
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def held_by(postgres: PostgresServer, url: str, process: subprocess.Popen[bytes]) -> int:
    """Items this worker process holds under a lease right now."""
    sql = (
        f"SELECT count(*) FROM batch_items WHERE status = 'running' AND lease_owner LIKE '%:{process.pid}:%'"
    )
    return int(postgres.query(url, sql))


# What tells, in the survivor's log, that it took over the dead worker's items.
TAKEN_OVER = {
    "database": "with expired leases to the queue",  # the lease reaper
    "procrastinate": "jobs of workers that stopped",  # the stalled-jobs sweep
}


@pytest.mark.parametrize("queue", ["database", "procrastinate"])
def test_two_workers_one_killed_lose_and_duplicate_nothing(
    tmp_path: Path, postgres_server: PostgresServer, postgres_url: str, queue: str
) -> None:
    articles = 30
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    body = ndjson([{"id": f"article-{n}", "text": article_text(n)} for n in range(articles)])
    with running_fake_llm(latency_ms=200) as llm:
        env = shared_environment(port, postgres_url, llm, FACTLINE_BATCH_QUEUE=queue)
        with service(env, tmp_path, tmp_path / "service.log"):
            response = httpx.post(f"{base_url}/v1/batches", content=body, timeout=10)
            assert response.status_code == 202, response.text
            batch_id = response.json()["id"]
            time.sleep(0.5)  # the service itself works on nothing...
            queued = httpx.get(f"{base_url}/v1/batches/{batch_id}", timeout=5).json()
            assert (queued["status"], queued["started_at"]) == ("queued", None)

            with workers(env, tmp_path, tmp_path / "a.log", tmp_path / "b.log") as (a, b):
                # ...the two workers do, side by side; kill one while it holds items.
                deadline = time.monotonic() + 30
                b_worked = False
                while True:
                    b_worked = b_worked or held_by(postgres_server, postgres_url, b) > 0
                    batch = httpx.get(f"{base_url}/v1/batches/{batch_id}", timeout=5).json()
                    if batch["counts"]["succeeded"] >= 8 and held_by(postgres_server, postgres_url, a) > 0:
                        break
                    assert time.monotonic() < deadline, batch
                    time.sleep(0.02)
                assert b_worked  # both share the queue
                seen_before = result_lines(base_url, batch_id, "?follow=false")
                os.kill(a.pid, signal.SIGKILL)
                a.wait(timeout=10)
                assert held_by(postgres_server, postgres_url, a) > 0  # it died holding items

                final = wait_for(base_url, batch_id, lambda b: b["counts"]["pending"] == 0, timeout=40)
                everything = result_lines(base_url, batch_id, "")
                resumed = result_lines(base_url, batch_id, f"?after={seen_before[-1]['cursor']}")
                b.send_signal(signal.SIGTERM)
                assert b.wait(timeout=10) == 0

    assert 8 <= len(seen_before) < articles
    assert final["status"] == "completed"
    assert (final["counts"]["succeeded"], final["counts"]["failed"]) == (articles, 0)
    assert sorted(line["article_id"] for line in everything) == sorted(
        f"article-{n}" for n in range(articles)
    )
    assert len({line["item_id"] for line in everything}) == articles
    assert all(line["status"] == "succeeded" for line in everything)
    # A client that read some lines before the kill continues after its cursor and misses nothing.
    assert seen_before + resumed == everything
    b_log = (tmp_path / "b.log").read_text()
    assert TAKEN_OVER[queue] in b_log
    assert "batch worker stopped" in b_log


@pytest.mark.parametrize("queue", ["database", "procrastinate"])
def test_sigterm_hands_the_items_back_at_once(tmp_path: Path, postgres_url: str, queue: str) -> None:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    body = ndjson([{"id": f"article-{n}", "text": article_text(n)} for n in range(8)])
    with running_fake_llm(latency_ms=600) as llm:
        # A lease far longer than the test: only the hand-back can free the items in time.
        env = shared_environment(
            port, postgres_url, llm, FACTLINE_BATCH_LEASE_SECONDS="600", FACTLINE_BATCH_QUEUE=queue
        )
        with service(env, tmp_path, tmp_path / "service.log"):
            response = httpx.post(f"{base_url}/v1/batches", content=body, timeout=10)
            batch_id = response.json()["id"]
            with workers(env, tmp_path, tmp_path / "first.log") as [first]:
                # Three at the LLM, three claimed beside them (`batch_jobs`), two queued.
                wait_for(base_url, batch_id, lambda b: b["counts"]["running"] == 6, timeout=10)
                first.send_signal(signal.SIGTERM)
                assert first.wait(timeout=10) == 0
            handed_back = httpx.get(f"{base_url}/v1/batches/{batch_id}", timeout=5).json()
            with workers(env, tmp_path, tmp_path / "second.log"):
                final = wait_for(base_url, batch_id, lambda b: b["counts"]["pending"] == 0, timeout=15)

    assert (handed_back["counts"]["running"], handed_back["counts"]["pending"]) == (0, 8)
    assert "returned 6 unfinished items to the queue" in (tmp_path / "first.log").read_text()
    assert final["counts"]["succeeded"] == 8


@pytest.mark.parametrize("queue", ["database", "procrastinate"])
def test_a_batch_cancelled_elsewhere_sends_nothing_more_to_the_llm(
    tmp_path: Path, postgres_url: str, queue: str
) -> None:
    """The service cancels; the worker process holds three items in the LLM's hands and three claimed
    beside them, and hears of it (NOTIFY): it abandons all six, and the three beside the calls never
    go to the LLM."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    body = ndjson([{"id": f"article-{n}", "text": article_text(n)} for n in range(8)])
    with running_fake_llm(latency_ms=1500) as llm:
        env = shared_environment(port, postgres_url, llm, FACTLINE_BATCH_QUEUE=queue)
        with service(env, tmp_path, tmp_path / "service.log"):
            batch_id = httpx.post(f"{base_url}/v1/batches", content=body, timeout=10).json()["id"]
            with workers(env, tmp_path, tmp_path / "worker.log"):
                wait_for(base_url, batch_id, lambda b: b["counts"]["running"] == 6, timeout=10)
                deadline = time.monotonic() + 10
                while llm.completions() < 3:  # the three calls have reached the LLM
                    assert time.monotonic() < deadline, llm.stats()
                    time.sleep(0.05)
                cancelled = httpx.delete(f"{base_url}/v1/batches/{batch_id}", timeout=10)
                time.sleep(2.5)  # the three answers arrive, and their slots are free again
                completions = llm.completions()
            final = httpx.get(f"{base_url}/v1/batches/{batch_id}", timeout=5).json()

    assert cancelled.status_code == 200, cancelled.text
    worker_log = (tmp_path / "worker.log").read_text()
    assert completions == 3, worker_log
    assert f"batch {batch_id} was cancelled: abandoned 6 extractions under way" in worker_log
    assert (final["status"], final["counts"]["cancelled"], final["counts"]["succeeded"]) == (
        "cancelled",
        8,
        0,
    )
