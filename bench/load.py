"""`make load`: many concurrent clients mixing good and bad requests against the real service.

The service (`uvicorn api.app:app`) and the fake LLM (tests/fakes/fake_llm.py) run as processes on
loopback; the fake's faults are chosen by markers in the articles, so each request knows which answer
it must get. Bounded in time and in requests. Reports counts by kind and status, unexpected answers
(must be none), latency percentiles and the service's resident memory at start, end and peak.

    python -m bench.load --seconds 180 --clients 32 --output LOAD.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import _current_rss_mb, _peak_rss_mb, machine, percentile, service_process  # noqa: E402
from tests.fakes.fake_llm import running_fake_llm  # noqa: E402

MAX_ARTICLE_CHARS = 20_000
LLM_LATENCY_MS = 50
LLM_TIMEOUT_SECONDS = 1.0
RSS_GROWTH_BOUND_MB = 60.0
"""Resident memory may grow this much from the first sample (after warm-up) to the end of the run."""

ARTICLE = (
    "Health minister Anna Keller said on Tuesday that the new hospital plan was “a step forward for every "
    "patient in the region”. Opposition leader Tomas Brandt called it “an expensive promise that nobody "
    "has costed so far”. Parliament will vote on the plan next month, the speaker Maria Lindqvist said."
)


@dataclass(frozen=True)
class Kind:
    """One kind of request: how to send it, which statuses are right, how often it is sent."""

    name: str
    weight: int
    expected: frozenset[int]
    build: Callable[[int], dict[str, Any]]


def _json(text: str, **fields: Any) -> dict[str, Any]:
    return {"method": "POST", "url": "/v1/extractions", "json": {"text": text, **fields}}


def _fault(fault: str) -> Callable[[int], dict[str, Any]]:
    return lambda n: _json(f"{ARTICLE} Request {n}. FAKE-LLM:{fault}")


def _raw(content: bytes, content_type: str) -> Callable[[int], dict[str, Any]]:
    return lambda n: {
        "method": "POST",
        "url": "/v1/extractions",
        "content": content,
        "headers": {"content-type": content_type},
    }


KINDS = [
    Kind("new article", 30, frozenset({200}), lambda n: _json(f"{ARTICLE} Request {n}.")),
    Kind("repeated article", 15, frozenset({200}), lambda n: _json(ARTICLE)),
    Kind(
        "text/plain article",
        5,
        frozenset({200}),
        lambda n: {
            "method": "POST",
            "url": "/v1/extractions?types=quote",
            "content": f"{ARTICLE} Plain {n}.".encode(),
            "headers": {"content-type": "text/plain"},
        },
    ),
    Kind("model adds ungrounded quotes", 4, frozenset({200}), _fault("ungrounded")),
    Kind("LLM 429 throughout", 3, frozenset({429}), _fault("rate_limit:0")),
    Kind("LLM 500 throughout", 3, frozenset({502}), _fault("error_500")),
    Kind("LLM 503 throughout", 2, frozenset({503}), _fault("error_503")),
    Kind("LLM resets connection", 2, frozenset({503}), _fault("reset")),
    Kind("LLM hangs past timeout", 1, frozenset({504}), _fault("hang:3")),
    Kind("LLM truncated JSON", 2, frozenset({502}), _fault("truncated")),
    Kind("LLM schema-breaking JSON", 2, frozenset({502}), _fault("invalid_schema")),
    Kind("LLM refusal", 2, frozenset({502}), _fault("refusal")),
    Kind("empty text", 3, frozenset({422}), lambda n: _json("   ")),
    Kind("article over the limit", 2, frozenset({413}), lambda n: _json("x" * (MAX_ARTICLE_CHARS + 1))),
    Kind("unknown field", 2, frozenset({422}), lambda n: _json(ARTICLE, colour="red")),
    Kind("malformed JSON", 3, frozenset({400}), _raw(b'{"text": "unterminated', "application/json")),
    Kind("invalid UTF-8", 2, frozenset({400}), _raw(b'{"text": "caf\xe9"}', "application/json")),
    Kind("wrong content type", 2, frozenset({415}), _raw(b"<article/>", "application/xml")),
    Kind("unknown route", 2, frozenset({404}), lambda n: {"method": "GET", "url": "/v1/nothing"}),
    Kind("health", 3, frozenset({200}), lambda n: {"method": "GET", "url": "/health"}),
    Kind("readiness", 2, frozenset({200}), lambda n: {"method": "GET", "url": "/ready"}),
]
BATCH_ARTICLES = 10


@dataclass
class Tally:
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    unexpected: list[str] = field(default_factory=list)
    requests: int = 0

    def record(self, kind: str, outcome: str, seconds: float, expected: bool) -> None:
        self.requests += 1
        self.statuses[kind][outcome] += 1
        self.latencies[kind].append(seconds)
        if not expected and len(self.unexpected) < 50:
            self.unexpected.append(f"{kind}: {outcome}")
        elif not expected:
            self.unexpected.append("…")


class MemorySampler(threading.Thread):
    """Resident memory of the service process, once a second."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(1.0):
            self.samples.append(_current_rss_mb(self.pid))


async def _client(
    http: httpx.AsyncClient, rng: random.Random, deadline: float, budget: list[int], tally: Tally
) -> None:
    weights = [kind.weight for kind in KINDS]
    while time.monotonic() < deadline and budget[0] > 0:
        budget[0] -= 1
        kind = rng.choices(KINDS, weights)[0]
        started = time.perf_counter()
        try:
            response = await http.request(**kind.build(rng.randrange(1_000_000_000)))
            outcome, expected = str(response.status_code), response.status_code in kind.expected
            if response.status_code >= 400:
                expected = expected and response.headers["content-type"].startswith(
                    "application/problem+json"
                )
        except httpx.HTTPError as error:
            outcome, expected = f"{type(error).__name__} ({error})", False
        tally.record(kind.name, outcome, time.perf_counter() - started, expected)


async def _batch(http: httpx.AsyncClient, tag: str, tally: Tally) -> str | None:
    articles = [
        {"id": f"{tag}-{n}", "text": f"{ARTICLE} Batch {tag}, article {n}."} for n in range(BATCH_ARTICLES)
    ]
    articles[3]["text"] += " FAKE-LLM:error_500"  # poisoned: fails alone
    body = "\n".join(json.dumps(article) for article in articles).encode()
    started = time.perf_counter()
    response = await http.post("/v1/batches", content=body, headers={"content-type": "application/x-ndjson"})
    tally.record(
        "batch upload", str(response.status_code), time.perf_counter() - started, response.status_code == 202
    )
    return str(response.json()["id"]) if response.status_code == 202 else None


async def _batch_outcome(http: httpx.AsyncClient, batch_id: str, tally: Tally, wait_seconds: float) -> None:
    """A batch is right when every article but the poisoned one succeeded and that one failed alone."""
    deadline = time.monotonic() + wait_seconds
    while True:
        batch = (await http.get(f"/v1/batches/{batch_id}")).json()
        if batch["status"] in ("completed", "failed") or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    counts = batch["counts"]
    outcome = f"{batch['status']}: {counts['succeeded']} succeeded, {counts['failed']} failed"
    right = batch["status"] == "completed" and (counts["succeeded"], counts["failed"]) == (
        BATCH_ARTICLES - 1,
        1,
    )
    tally.record("batch outcome", outcome, 0.0, right)


async def _drive(base_url: str, clients: int, seconds: float, max_requests: int, batches: int) -> Tally:
    tally = Tally()
    rng = random.Random(5)
    # Idle connections are dropped after 1 s, before uvicorn closes them (5 s): otherwise a client can
    # send on a connection the server is closing at that moment, the keep-alive race every HTTP client
    # has, which would be counted here as a failure of the service.
    limits = httpx.Limits(
        max_connections=clients + 4, max_keepalive_connections=clients + 4, keepalive_expiry=1.0
    )
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:
        deadline = time.monotonic() + seconds
        budget = [max_requests]
        batch_ids: list[str] = []

        async def submit_batches() -> None:
            for n in range(batches):
                if (batch_id := await _batch(http, f"b{n}", tally)) is not None:
                    batch_ids.append(batch_id)
                await asyncio.sleep(seconds / max(batches, 1))

        await asyncio.gather(
            submit_batches(),
            *(_client(http, random.Random(rng.random()), deadline, budget, tally) for _ in range(clients)),
        )
        for batch_id in batch_ids:
            await _batch_outcome(http, batch_id, tally, wait_seconds=60)
    return tally


def run_load(seconds: float, clients: int, max_requests: int, batches: int = 2) -> dict[str, Any]:
    """The service and the fake LLM as processes, `clients` concurrent clients for `seconds`."""
    with (
        running_fake_llm(latency_ms=LLM_LATENCY_MS) as llm,
        service_process(
            llm.base_url,
            MAX_ARTICLE_CHARS=str(MAX_ARTICLE_CHARS),
            LLM_MAX_RETRIES="2",
            LLM_RETRY_BACKOFF_SECONDS="0.05",
            LLM_TIMEOUT_SECONDS=str(LLM_TIMEOUT_SECONDS),
            # LLM faults are a fixed share of the load: the breaker must not turn good requests into 503s.
            LLM_CIRCUIT_FAILURE_THRESHOLD="1000",
            BATCH_CONCURRENCY="4",
        ) as (base_url, process),
    ):
        warm_up = asyncio.run(_drive(base_url, clients, min(3.0, seconds / 10), 500, 0))
        sampler = MemorySampler(process.pid)
        start_mb = _current_rss_mb(process.pid)
        sampler.start()
        started = time.monotonic()
        tally = asyncio.run(_drive(base_url, clients, seconds, max_requests, batches))
        elapsed = time.monotonic() - started
        sampler.stop.set()
        sampler.join()
        end_mb = _current_rss_mb(process.pid)
        peak_mb = max([_peak_rss_mb(process.pid), *sampler.samples])
        serving = httpx.get(f"{base_url}/health", timeout=5).status_code == 200
        fake_stats = llm.stats()
    everything = [s for kind in tally.latencies.values() for s in kind]
    good = tally.latencies["new article"]
    return {
        "seconds": round(elapsed, 1),
        "clients": clients,
        "requests": tally.requests,
        "warm_up_unexpected": warm_up.unexpected,
        "requests_per_second": round(tally.requests / elapsed, 1),
        "statuses": {kind: dict(counts) for kind, counts in sorted(tally.statuses.items())},
        "unexpected": tally.unexpected,
        "latency_ms": {
            "all": {q: round(percentile(everything, q) * 1000, 1) for q in (50, 99)},
            "new article": {q: round(percentile(good, q) * 1000, 1) for q in (50, 99)} if good else {},
        },
        "rss_mb": {"start": round(start_mb, 1), "end": round(end_mb, 1), "peak": round(peak_mb, 1)},
        "rss_growth_mb": round(end_mb - start_mb, 1),
        "rss_growth_bound_mb": RSS_GROWTH_BOUND_MB,
        "serving_after": serving,
        "llm_completions": fake_stats["completions"],
        "llm_by_fault": fake_stats["by_fault"],
    }


def report(result: dict[str, Any]) -> str:
    expected = {kind.name: "/".join(map(str, sorted(kind.expected))) for kind in KINDS}
    expected |= {
        "batch upload": "202",
        "batch outcome": f"completed: {BATCH_ARTICLES - 1} succeeded, 1 failed",
    }
    rows = []
    for kind, counts in result["statuses"].items():
        got = ", ".join(f"{status}: {n}" for status, n in sorted(counts.items()))
        rows.append(f"| {kind} | {expected.get(kind, '?')} | {got} |")
    latency, rss, new = result["latency_ms"]["all"], result["rss_mb"], result["latency_ms"]["new article"]
    unexpected = result["unexpected"]
    faults = ", ".join(f"{k} {v}" for k, v in sorted(result["llm_by_fault"].items()))
    return "\n".join(
        [
            "# Load test",
            "",
            f"`make load`: {machine()}. The service (one uvicorn "
            "process), the fake LLM and the load generator share the machine's cores; the load average "
            "when this was written (1, 5, 15 min): {:.1f}, {:.1f}, {:.1f}.".format(*os.getloadavg()),
            "",
            f"{result['clients']} concurrent clients for {result['seconds']} s sent {result['requests']} "
            f"requests ({result['requests_per_second']}/s): good articles, bad input, and LLM faults chosen "
            f"by markers in the articles (fake LLM latency {LLM_LATENCY_MS} ms, call timeout "
            f"{LLM_TIMEOUT_SECONDS:g} s, 2 transport retries); and batches of {BATCH_ARTICLES} articles, "
            "one of them poisoned, whose outcome is checked at the end.",
            "",
            "| request | expected | got |",
            "|---|---|---|",
            *rows,
            "",
            f"- **Unexpected answers: {len(unexpected)}** ({', '.join(unexpected[:10]) or 'none'}); "
            f"the service still served afterwards: {result['serving_after']}.",
            f"- Latency, all requests: p50 {latency[50]} ms, p99 {latency[99]} ms; new articles "
            f"(one LLM call): p50 {new.get(50)} ms, p99 {new.get(99)} ms.",
            f"- Resident memory of the service: {rss['start']} MB at start (after warm-up), "
            f"{rss['end']} MB at the end, {rss['peak']} MB peak; growth {result['rss_growth_mb']} MB "
            f"against a bound of {result['rss_growth_bound_mb']:g} MB.",
            f"- The fake LLM was asked for {result['llm_completions']} completions: {faults}.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=200_000)
    parser.add_argument("--batches", type=int, default=2)
    parser.add_argument("--output", default=None, help="write the report here (e.g. LOAD.md)")
    args = parser.parse_args()
    result = run_load(args.seconds, args.clients, args.max_requests, args.batches)
    text = report(result)
    print(text)
    print(json.dumps(result, indent=1, ensure_ascii=False), file=sys.stderr)
    if args.output:
        Path(args.output).write_text(text, "utf-8")
    ok = (
        not result["unexpected"]
        and result["rss_growth_mb"] <= RSS_GROWTH_BOUND_MB
        and result["serving_after"]
    )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
