"""Where a 4 KB extraction's overhead goes, stage by stage, in the running service.

`python -m bench.stages serve` is `factline serve` (one process) with a time stamp taken where each
stage begins and ends; `measure_stages` sends it sequential requests with the fake LLM answering
after a fixed latency, and reports each stage's median. The stamps cost a few microseconds each.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

STAGES_FILE = "BENCH_STAGES_FILE"
_marks: list[tuple[str, float, float]] = []


def _stamp(label: str) -> None:
    """Where a stage begins or ends: wall time, and the CPU time of the thread serving the request."""
    _marks.append((label, time.perf_counter(), time.thread_time()))


def _timed(owner: Any, name: str, label: str) -> None:
    """Stamp `label>` when `owner.name` is called and `label<` when it returns."""
    original = getattr(owner, name)
    if asyncio.iscoroutinefunction(original):

        @functools.wraps(original)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            _stamp(f"{label}>")
            try:
                return await original(*args, **kwargs)
            finally:
                _stamp(f"{label}<")

        setattr(owner, name, timed_async)
    else:

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            _stamp(f"{label}>")
            try:
                return original(*args, **kwargs)
            finally:
                _stamp(f"{label}<")

        setattr(owner, name, timed)


def serve() -> int:
    """`factline serve`, each extraction's stamps appended to the file `BENCH_STAGES_FILE` names."""
    import api.request_id
    import factline.cache
    import factline.extraction
    import factline.llm
    import factline.llm_transport
    from factline.cli import main

    output = Path(os.environ[STAGES_FILE])
    outer = api.request_id.RequestIdMiddleware.__call__

    async def stamped(self: Any, scope: Any, receive: Any, send: Callable[[Any], Awaitable[None]]) -> None:
        if scope["type"] != "http" or scope["path"] != "/v1/extractions":
            await outer(self, scope, receive, send)
            return
        _marks.clear()
        _stamp("asgi>")

        async def stamped_send(message: Any) -> None:
            await send(message)
            if message["type"] == "http.response.body":
                _stamp("sent")

        await outer(self, scope, receive, stamped_send)
        _, start, cpu_start = _marks[0]
        stamps = {label: ((at - start) * 1000, (cpu - cpu_start) * 1000) for label, at, cpu in _marks}
        # After the response has gone, between sequential requests: blocking the loop costs them nothing.
        with output.open("a") as lines:  # noqa: ASYNC230
            lines.write(json.dumps(stamps) + "\n")

    api.request_id.RequestIdMiddleware.__call__ = stamped  # type: ignore[method-assign]
    _timed(factline.cache.CachingExtractor, "extract", "cache")
    _timed(factline.extraction.Extractor, "extract", "extractor")
    _timed(factline.llm.LLMClient, "complete", "llm")
    _timed(factline.llm_transport.AiohttpLLMTransport, "handle_async_request", "http")
    _timed(factline.extraction, "assemble_extraction", "assemble")
    sys.argv = ["factline", "serve"]
    return main()


# (stage, its start stamp, its end stamp)
STAGES = (
    ("uvicorn and litestar, before the handler (body, validation, middleware)", "asgi>", "cache>"),
    ("cache key and look-up", "cache>", "extractor>"),
    ("before the LLM call (quote candidates, chunk plan, prompt)", "extractor>", "llm>"),
    ("instructor and openai, building and sending the request", "llm>", "http>"),
    ("the LLM call's HTTP, beyond the fake's own time", "http>", "http<"),
    ("openai and instructor, reading and validating the answer", "http<", "llm<"),
    ("after the call, before grounding", "llm<", "assemble>"),
    ("grounding and assembly", "assemble>", "assemble<"),
    ("after assembly (cache entry, warnings)", "assemble<", "cache<"),
    ("litestar and uvicorn, serialising and sending", "cache<", "sent"),
)


def measure_stages(latency_ms: float, requests: int) -> dict[str, Any]:
    """Each stage's median time in ms over `requests` sequential extractions of the 4 KB article, wall
    and CPU: where they differ the service waited, its thread not running (preempted by the client or
    the fake LLM, or waking its core)."""
    from bench.run import article_4k, body, service_process, timed_extraction
    from bench.wire_client import WireClient
    from tests.fakes.fake_llm import running_fake_llm

    command = (sys.executable, "-m", "bench.stages", "serve")
    samples: list[tuple[float, float]] = []
    with (
        tempfile.TemporaryDirectory(prefix="factline-bench-stages-") as directory,
        running_fake_llm(latency_ms) as llm,
    ):
        stamps = Path(directory) / "stages.jsonl"
        os.environ[STAGES_FILE] = str(stamps)
        with (
            service_process(llm.base_url, command=command) as (base, _),
            httpx.Client(timeout=60) as stats,
        ):
            client = WireClient(base)
            for n in range(requests + 1):  # the first warms up
                samples.append(timed_extraction(client, llm, stats, body(article_4k(), f"stages {n}")))
            client.close()
        rows = [json.loads(line) for line in stamps.read_text().splitlines()][1:]
    wall: dict[str, list[float]] = {stage: [] for stage, _, _ in STAGES}
    cpu: dict[str, list[float]] = {stage: [] for stage, _, _ in STAGES}
    overhead = []
    for (elapsed, answering), stamp in zip(samples[1:], rows, strict=True):
        for stage, start, end in STAGES:
            wall[stage].append(stamp[end][0] - stamp[start][0] - (answering if start == "http>" else 0))
            cpu[stage].append(stamp[end][1] - stamp[start][1])
        overhead.append(elapsed - answering)
    return {
        "latency_ms": latency_ms,
        "requests": requests,
        "stages": {stage: statistics.median(values) for stage, values in wall.items()},
        # The call's CPU is the text reading done in the wait, not the call's.
        "cpu": {
            stage: None if start == "http>" else statistics.median(cpu[stage]) for stage, start, _ in STAGES
        },
        "overhead": statistics.median(overhead),
    }


if __name__ == "__main__":
    raise SystemExit(serve() if sys.argv[1:] == ["serve"] else 2)
