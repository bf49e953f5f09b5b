"""`make bench`: factline's overhead, throughput, CPU per phase and token cost, written to BENCHMARKS.md.

The service and a fake OpenAI-compatible server (tests/fakes/fake_llm.py) run as real processes on
loopback; the fake answers after a fixed latency, so what remains of a request's time is factline's.
Every figure is the median of several runs, with the spread (min-max) of those runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

import httpx

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT / "fixtures" / "articles"
RECORDINGS = sorted((ROOT / "fixtures" / "llm").glob("*.json"))  # exchanges recorded from a real model
BIN = Path(sys.executable).parent
SERVE = (str(BIN / "factline"), "serve")
sys.path.insert(0, str(ROOT))

from bench.stages import measure_stages  # noqa: E402
from bench.wire_client import WireClient  # noqa: E402
from factline.local_llm import QWEN_CODER_1_5B, LocalSetup, free_port, run_local_server  # noqa: E402
from factline.settings import Settings  # noqa: E402
from tests.fakes.fake_llm import RunningFakeLLM, running_fake_llm  # noqa: E402
from tests.listening import children, listening  # noqa: E402
from tests.postgres import installed_binaries, running_postgres  # noqa: E402
from tests.system_tools import apt_get_install  # noqa: E402


def article_4k() -> str:
    return (ARTICLES / "000_38688fb7183b1fa4.txt").read_text("utf-8")


def article_40k() -> str:
    """The five sample articles, twice, each under a date line: a long article of about 40 KB."""
    texts = [p.read_text("utf-8") for p in sorted(ARTICLES.glob("*.txt"))]
    return "\n\n".join(f"Dateline {n}.\n{text}" for n, text in enumerate(texts * 2, start=1))


def body(text: str, title: str | None = None) -> bytes:
    """A request; a distinct title makes it a distinct article for the extraction cache."""
    return json.dumps({"text": text, "published_at": "2025-12-15", "title": title}).encode()


def wait_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


STOP_SECONDS = 20


@contextmanager
def process(
    command: list[str], ready_url: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`command` running until the block ends, then stopped by SIGTERM; one that does not stop within
    `STOP_SECONDS` fails the bench with the stacks it is stuck in and the log it wrote."""
    log = Path(tempfile.mkstemp(prefix="factline-bench-service-", suffix=".log")[1])
    with log.open("wb") as output:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
    try:
        wait_ready(ready_url)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            stacks = _stacks(proc.pid)
            proc.kill()
            proc.wait()
            raise RuntimeError(
                f"{' '.join(command)} did not stop within {STOP_SECONDS} s of SIGTERM; its log is {log}, "
                f"its stacks were:\n{stacks}"
            ) from None
    log.unlink()


def _stacks(pid: int) -> str:
    """py-spy's dump of a process and of its children (a supervisor's HTTP processes)."""
    dumps = (
        subprocess.run(
            [str(BIN / "py-spy"), "dump", "--pid", str(one)], capture_output=True, text=True, timeout=60
        )
        for one in (pid, *children(pid))
    )
    return "\n".join(dump.stdout + dump.stderr for dump in dumps)


@contextmanager
def service(llm_url: str, processes: int = 1, worker_count: int = 0, **settings: str) -> Iterator[str]:
    """`factline serve` with its own fresh database, so no earlier run's cache answers."""
    with service_process(llm_url, processes, worker_count, SERVE, **settings) as (base, _):
        yield base


@contextmanager
def worker_processes(count: int, env: dict[str, str], directory: Path) -> Iterator[None]:
    """`factline worker` processes beside the service, on its database, logging into `directory`;
    yielded once each runs."""
    logs = [directory / f"worker-{n}.log" for n in range(count)]
    env = env | {"FACTLINE_LOG_LEVEL": "INFO"}
    procs = []
    for log in logs:
        with log.open("wb") as output:
            procs.append(
                subprocess.Popen([str(BIN / "factline"), "worker"], cwd=ROOT, env=env, stderr=output)
            )
    try:
        deadline = time.monotonic() + 30
        while not all("batch worker running" in log.read_text() for log in logs):
            if time.monotonic() > deadline or any(proc.poll() is not None for proc in procs):
                raise RuntimeError("a worker did not start: " + " ".join(log.read_text() for log in logs))
            time.sleep(0.1)
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=20)


@contextmanager
def service_process(
    llm_url: str,
    processes: int = 1,
    worker_count: int = 0,
    command: tuple[str, ...] = SERVE,
    **settings: str,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`service`, also yielding the `factline serve` process (with `processes` > 1, the supervisor
    of that many HTTP processes, yielded once all listen; they need a PostgreSQL `database_url`);
    `settings` are more FACTLINE_* variables. With `worker_count`, batches go to that many
    `factline worker` processes, not the service's own. `command` serves in its place. Its SQLite
    database and logs are removed once it has stopped."""
    port = free_port()
    directory = tempfile.TemporaryDirectory(prefix="factline-bench-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("FACTLINE_")}
    env["FACTLINE_DATABASE_URL"] = f"sqlite+aiosqlite:///{directory.name}/bench.db"
    env |= {
        "FACTLINE_HOST": "127.0.0.1",
        "FACTLINE_PORT": str(port),
        "FACTLINE_WEB_PROCESSES": str(processes),
        "FACTLINE_LLM_BASE_URL": llm_url,
        "FACTLINE_LLM_MODEL": "fake",
        "FACTLINE_LLM_MAX_RETRIES": "0",
        "FACTLINE_LOG_LEVEL": "WARNING",
        "FACTLINE_LLM_MAX_CONCURRENCY": "64",
    }
    env |= {f"FACTLINE_{name.upper()}": value for name, value in settings.items()}
    if worker_count:
        env["FACTLINE_BATCH_WORKERS_IN_PROCESS"] = "false"
    with (
        directory,
        process(list(command), f"http://127.0.0.1:{port}/health", env) as proc,
        worker_processes(worker_count, env, Path(directory.name)),
    ):
        if processes > 1:
            listening(
                proc.pid, port, processes
            )  # load sent before the last one listens all goes to the others
        yield f"http://127.0.0.1:{port}", proc


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def summary(runs: list[float], unit: str, digits: int = 1) -> str:
    return f"{statistics.median(runs):.{digits}f} {unit} ({min(runs):.{digits}f}–{max(runs):.{digits}f})"


@contextmanager
def on_cores(cores: set[int] | None) -> Iterator[None]:
    """This process, and the processes it starts meanwhile, on `cores` (None: as it was)."""
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cores or before)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def split_cores() -> tuple[set[int], set[int]] | None:
    """The machine's cores in two halves: for the service, and for the fake LLM and the client; None
    with one core, which cannot be split."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        return None
    return set(cores[len(cores) // 2 :]), set(cores[: len(cores) // 2])


def timed_extraction(
    client: WireClient, llm: RunningFakeLLM, stats: httpx.Client, payload: bytes
) -> tuple[float, float]:
    """One `POST /v1/extractions` on `client`: its latency and the fake LLM's share of it, in ms, the
    fake's statistics read over `stats`. A long article's parts are answered concurrently: the LLM's
    share of the wait is one call's time, not the sum of the calls' times."""
    before = stats.get(f"{llm.root}/_stats").json()
    started = time.perf_counter()
    status, _ = client.post("/v1/extractions", payload)
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        raise RuntimeError(f"extraction answered HTTP {status}")
    after = stats.get(f"{llm.root}/_stats").json()
    calls = after["completions"] - before["completions"]
    return elapsed, (after["answering_ms"] - before["answering_ms"]) / calls


def measure_overhead(
    latency_ms: float, runs: int, requests: int, *, split: tuple[set[int], set[int]] | None = None
) -> dict[str, Any]:
    """Latency of POST /v1/extractions minus the fake LLM's latency, per article size.

    The client is `WireClient` on one keep-alive connection (a socket and llhttp): the client's time is
    not the service's, and `http.client` took ~0.3 ms more per request after an idle second, httpx
    ~1 ms more. The fake's statistics are read over a connection of their own.
    `split` (`split_cores()`): the service on cores of its own, the fake LLM and the client on the
    others, as on other machines they would be: sharing cores, they can preempt it and share its caches.
    """
    results: dict[str, Any] = {}
    service_cores, apparatus_cores = split or (None, None)
    with ExitStack() as stack:
        stack.enter_context(on_cores(apparatus_cores))
        llm = stack.enter_context(running_fake_llm(latency_ms))
        with on_cores(service_cores):
            base = stack.enter_context(service(llm.base_url))
        stats = stack.enter_context(httpx.Client(timeout=60))
        client = WireClient(base)
        for name, text in (("4 KB", article_4k()), ("40 KB", article_40k())):
            timed_extraction(client, llm, stats, body(text, "warm-up"))
            p50s: list[float] = []
            p99s: list[float] = []
            for _ in range(runs):
                samples = []
                for n in range(requests):
                    payload = body(text, f"{name} run {len(p50s)} request {n}")  # never a cache hit
                    elapsed, answering = timed_extraction(client, llm, stats, payload)
                    samples.append(elapsed - answering)
                p50s.append(percentile(samples, 50))
                p99s.append(percentile(samples, 99))
            results[name] = {"chars": len(text), "p50_ms": p50s, "p99_ms": p99s}
        client.close()
    return results


def wrk_requests_per_second(url: str, text: str, seconds: int, connections: int) -> float:
    """wrk posting the article under a new title each time, so no request is a cache hit (the titles
    carry the run's own prefix: counting from 1 again, a second run was answered from the first's
    cache entries, and its rate was counted as extractions)."""
    run = uuid.uuid4().hex[:8]
    script = ROOT / "bench" / ".post.lua"
    data = ROOT / "bench" / ".text.json"
    data.write_text(json.dumps(text))
    script.write_text(
        'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        f'local f = io.open("{data}", "r")\nlocal text = f:read("*all")\nf:close()\nlocal n = 0\n'
        "request = function()\n  n = n + 1\n"
        f'  return wrk.format(nil, nil, nil, \'{{"title": "run {run} \' .. n .. \'", '
        '"published_at": "2025-12-15", "text": \' .. text .. \'}\')\nend\n'
    )
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        script.unlink()
        data.unlink()
    if "Non-2xx" in out:
        statuses = [
            line
            for line in httpx.get(url.replace("/v1/extractions", "/metrics")).text.splitlines()
            if line.startswith("factline_requests_total") and 'status_code="2' not in line
        ]
        raise RuntimeError("errors under load:\n" + out + "\n".join(statuses))
    return float(next(line for line in out.splitlines() if line.startswith("Requests/sec")).split()[1])


async def _python_load(url: str, text: str, seconds: int, connections: int) -> float:
    """The fallback without wrk: asyncio clients, each request under a new title (no cache hits)."""
    done = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                payload = {"title": f"run {done}-{id(asyncio.current_task())}", "text": text}
                (await client.post(url, json=payload)).raise_for_status()
                done += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
    return done / seconds


def load_generator() -> str:
    """What loads the service: wrk, or asyncio clients, which take far more of the cores it shares."""
    return "wrk" if shutil.which("wrk") else "python-httpx"


def install_wrk() -> None:
    """wrk with apt-get, where that is possible; without it the load comes from asyncio clients."""
    if shutil.which("wrk") is None:
        try:
            apt_get_install("wrk")
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as error:
            print(f"wrk not installed ({error}); loading with python-httpx", flush=True)


def load_rate(url: str, seconds: int) -> float:
    """Extractions per second of the 4 KB article, 32 connections, from wrk (or asyncio clients)."""
    if load_generator() == "wrk":
        return wrk_requests_per_second(url, article_4k(), seconds, 32)
    return asyncio.run(_python_load(url, article_4k(), seconds, 32))


def measure_throughput(runs: int, seconds: int, processes: int, **settings: str) -> tuple[list[float], str]:
    with running_fake_llm(0) as llm, service(llm.base_url, processes, 0, **settings) as base:
        rates = [load_rate(f"{base}/v1/extractions", seconds) for _ in range(runs)]
    return rates, load_generator()


# Where a sampled stack's CPU goes: the innermost frame named here decides (validation inside the LLM
# call is validation; prompt building inside the cache key is prompt building).
PROFILE_PHASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("request parsing (body, ExtractionRequest)", ("json_extractor",)),
    ("cache key and lookup, cache writes", ("cache_key", "CachingExtractor._lookup", "_WriteBehind._write")),
    # An article likely within budget is counted in the LLM's wait (`within_budget`), others before.
    ("token counting (chunk plan)", ("plan_chunks", "within_budget")),
    ("prompt building", ("plan_extraction_calls",)),
    ("validation of the model's answer", ("parse_response",)),
    (
        "LLM client (openai + instructor + HTTP)",
        ("LLMClient.complete", "ResponseHandler.data_received", "ClientRequest.write_bytes"),
    ),
    ("text reading (during the LLM's wait)", ("ArticleReading.read",)),
    ("grounding and assembly", ("assemble_extraction",)),
    ("serialisation of the result", ("HTTPRouteHandler.to_response",)),
    ("HTTP server and framework (uvicorn, litestar)", ("RequestResponseCycle.run_asgi", "HttpToolsProtocol")),
)
OTHER_PHASE = "event loop, other"


def phase_of(stack: list[str]) -> str:
    """The phase of a py-spy stack (frames root first, each `function (file:line)`)."""
    for frame in reversed(stack):
        function = frame.split(" (", 1)[0]
        for phase, markers in PROFILE_PHASES:
            if any(function == marker or function.endswith(f".{marker}") for marker in markers):
                return phase
    return OTHER_PHASE


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_profile(seconds: int) -> dict[str, Any]:
    """The service's CPU per extraction by phase under load (one process, instant fake LLM), from
    py-spy sampling the running process: the service's own CPU time over the run, split by where
    the samples of its event loop's thread fell."""
    with tempfile.TemporaryDirectory(prefix="factline-bench-profile-") as directory:
        return _profile(Path(directory) / "profile.txt", seconds)


def _profile(raw: Path, seconds: int) -> dict[str, Any]:
    """`measure_profile`, py-spy writing its samples to `raw`."""
    py_spy = BIN / "py-spy"
    with running_fake_llm(0) as llm, service_process(llm.base_url) as (base, proc):
        url = f"{base}/v1/extractions"
        load_rate(url, 2)  # warm-up
        spy = subprocess.Popen(
            [str(py_spy), "record", "--nonblocking", "--rate", "250", "--duration", str(seconds),
             "--format", "raw", "--output", str(raw), "--pid", str(proc.pid)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        time.sleep(1)  # attached
        cpu_before = _cpu_seconds(proc.pid)
        rate = load_rate(url, seconds - 2)
        cpu_ms = (_cpu_seconds(proc.pid) - cpu_before) * 1000 / (rate * (seconds - 2))
        _, error = spy.communicate(timeout=seconds + 30)
    if spy.returncode != 0 or not raw.exists():
        return {"error": error.decode(errors="replace").strip()[-300:] or f"py-spy exited {spy.returncode}"}
    samples: dict[str, int] = dict.fromkeys([phase for phase, _ in PROFILE_PHASES] + [OTHER_PHASE], 0)
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        # The event loop's thread: aiosqlite's threads sleep on a queue, which py-spy counts as busy.
        if any(frame.startswith("Runner.run (") for frame in frames):
            samples[phase_of(frames)] += int(count)
    total = sum(samples.values())
    return {
        "load": load_generator(),
        "seconds": seconds - 2,
        "rate": rate,
        "cpu_ms": cpu_ms,
        "samples": total,
        "phases": {phase: n / total for phase, n in samples.items()},
    }


def measure_repeats(requests: int) -> dict[str, Any]:
    """A repeated article: answered from the extraction cache, with no LLM call, and how fast."""
    with running_fake_llm(1000) as llm, service(llm.base_url) as base, httpx.Client(timeout=60) as client:
        payload = body(article_4k())
        headers = {"content-type": "application/json"}
        client.post(f"{base}/v1/extractions", content=payload, headers=headers).raise_for_status()
        calls_before = llm.completions()
        samples, cached = [], 0
        for _ in range(requests):
            started = time.perf_counter()
            response = client.post(f"{base}/v1/extractions", content=payload, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
            cached += bool(response.json().get("cached"))
        return {
            "requests": requests,
            "cached": cached,
            "llm_calls": llm.completions() - calls_before,
            "p50_ms": percentile(samples, 50),
            "p99_ms": percentile(samples, 99),
        }


def measure_phases(iterations: int) -> dict[str, float]:
    """CPU time per extraction by phase, each phase timed on its own with the same inputs."""
    from litestar.serialization import encode_json

    from factline.extraction import Extractor, assemble_extraction
    from factline.llm import CallLog, LLMClient
    from factline.prompting import plan_extraction_calls, quote_candidates_for
    from schemas import ExtractionRequest, Usage
    from tests.fakes.fake_llm import completion

    payload = body(article_4k())
    request = ExtractionRequest.model_validate(json.loads(payload))
    candidates = quote_candidates_for(request)
    [call] = plan_extraction_calls(request, candidates, "single")
    messages, model = call.messages, call.response_model
    answer = completion(
        {"messages": messages, "response_format": {"json_schema": {"schema": model.model_json_schema()}}}
    )
    response_bytes = json.dumps(answer).encode()
    content = answer["choices"][0]["message"]["content"]
    settings = Settings(_env_file=None, llm_base_url="http://fake/v1", llm_model="fake", local_model="none")
    transport = httpx.MockTransport(lambda _: httpx.Response(200, content=response_bytes))
    llm = LLMClient(settings, transport)
    facts = model.model_validate_json(content)
    usage = Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2, llm_calls=1)
    result = asyncio.run(Extractor(llm, settings).extract(request))

    def cpu_ms(work: Callable[[], object]) -> float:
        work()
        started = time.process_time()
        for _ in range(iterations):
            work()
        return (time.process_time() - started) * 1000 / iterations

    async def llm_calls() -> float:
        await llm.complete(messages, model, CallLog())
        started = time.process_time()
        for _ in range(iterations):
            await llm.complete(messages, model, CallLog())
        return (time.process_time() - started) * 1000 / iterations

    validation = cpu_ms(lambda: model.model_validate_json(content))
    return {
        "request parsing (JSON + ExtractionRequest)": cpu_ms(
            lambda: ExtractionRequest.model_validate(json.loads(payload))
        ),
        "prompt building": cpu_ms(
            lambda: plan_extraction_calls(request, quote_candidates_for(request), "single")
        ),
        "LLM client (openai + instructor, HTTP mocked)": asyncio.run(llm_calls()) - validation,
        "validation of the model's answer": validation,
        "grounding and assembly": cpu_ms(
            lambda: assemble_extraction(
                request,
                facts,
                candidates=candidates,
                usage=usage,
                model="fake",
                prompt_version="v",
                fuzzy_threshold=90,
            )
        ),
        "serialisation of the result": cpu_ms(lambda: encode_json(result.model_dump(mode="json"))),
    }


def measure_recorded_grounding(iterations: int) -> list[dict[str, Any]]:
    """Grounding and assembly CPU of the recorded real-model answers (fixtures/llm), beside the fake's.

    The fake copies its excerpts from the text, so they are found at once; a real model's are not
    always (normalised and fuzzy matches, excerpts and dates not in the text at all), and the text's
    own reading adds what it missed. Each article's text is read beforehand, as in the LLM's wait.
    """
    return [_recorded_grounding(path, iterations) for path in RECORDINGS]


def _recorded_grounding(path: Path, iterations: int) -> dict[str, Any]:
    from factline.article_reading import ArticleReading
    from factline.extraction import assemble_extraction
    from factline.prompting import plan_extraction_calls, quote_candidates_for
    from schemas import ExtractionRequest, Usage
    from schemas.llm_output import merge_answers

    fixture = json.loads(path.read_text("utf-8"))
    text = (ARTICLES / fixture["article"]).read_text("utf-8")
    request = ExtractionRequest.model_validate(fixture["request"] | {"text": text})
    candidates = quote_candidates_for(request)
    calls = plan_extraction_calls(request, candidates, fixture["recorded"]["extraction_calls"])
    facts = merge_answers(
        call.response_model.model_validate_json(content)
        for call, content in zip(calls, answer_contents(fixture), strict=True)
    )
    usage = Usage(prompt_tokens=1, completion_tokens=1, total_tokens=2, llm_calls=1)
    readings = [ArticleReading(text).read(request.types) for _ in range(iterations + 1)]

    def assemble(reading: ArticleReading) -> Any:
        return assemble_extraction(
            request, facts, candidates=candidates, usage=usage, model="m", prompt_version="v",
            fuzzy_threshold=90, reading=reading,
        )  # fmt: skip

    result = assemble(readings.pop())
    started = time.process_time()
    for reading in readings:
        assemble(reading)
    cpu_ms = (time.process_time() - started) * 1000 / iterations
    spans = [
        item.evidence[0].match.value
        for items in (result.quotes, result.events, result.positions, result.proposals)
        for item in items
    ]
    return {
        "article": path.stem,
        "chars": len(text),
        "cpu_ms": cpu_ms,
        "items": len(spans),
        "matches": {kind: spans.count(kind) for kind in ("exact", "normalized", "fuzzy")},
        "warnings": len(result.warnings),
    }


def measure_tokens() -> dict[str, Any] | None:
    """Prompt and schema tokens against the article's own, with the embedded Qwen model's tokenizer."""
    from factline.prompting import CallPlan, plan_extraction_calls, quote_candidates_for
    from schemas import ExtractionRequest

    settings = Settings(_env_file=None)
    setup = LocalSetup(settings.local_home, progress=lambda _: None)
    if not setup.is_ready(QWEN_CODER_1_5B):
        return None

    async def count() -> dict[str, Any]:
        async with run_local_server(
            setup, QWEN_CODER_1_5B, context=4096, threads=2, startup_timeout=120
        ) as srv:
            base = srv.base_url.removesuffix("/v1")
            async with httpx.AsyncClient(timeout=60) as client:

                async def tokens(text: str) -> int:
                    response = await client.post(f"{base}/tokenize", json={"content": text})
                    return len(response.json()["tokens"])

                rows = []
                for path in sorted(ARTICLES.glob("*.txt")):
                    request = ExtractionRequest(text=path.read_text("utf-8"), published_at="2025-12-15")
                    article_tokens = await tokens(request.text)
                    for plan in get_args(CallPlan):
                        extras, prompt_extras, prompt_total, schema_total = [], [], 0, 0
                        calls = plan_extraction_calls(request, quote_candidates_for(request), plan)
                        for call in calls:
                            templated = await client.post(
                                f"{base}/apply-template", json={"messages": call.messages}
                            )
                            prompt = await tokens(templated.json()["prompt"])
                            schema = await tokens(
                                json.dumps(call.response_model.model_json_schema(), separators=(",", ":"))
                            )
                            prompt_total += prompt
                            schema_total += schema
                            extras.append(prompt + schema - article_tokens)
                            prompt_extras.append(prompt - article_tokens)
                        rows.append(
                            {
                                "article": path.stem,
                                "plan": plan,
                                "calls": len(calls),
                                "article_tokens": article_tokens,
                                "prompt_tokens": prompt_total,
                                "schema_tokens": schema_total,
                                "largest_call_extra": max(extras),
                                "largest_prompt_extra": max(prompt_extras),
                            }
                        )
                return {"rows": rows}

    return asyncio.run(count())


def batch_status(client: httpx.Client, base: str, batch_id: str) -> dict[str, Any]:
    return dict(client.get(f"{base}/v1/batches/{batch_id}").raise_for_status().json())


def ndjson_articles(count: int, tag: str) -> bytes:
    """`count` distinct 4 KB articles (distinct for the cache), one JSON object per line."""
    text = article_4k()
    lines = (json.dumps({"id": f"{tag}-{n}", "text": f"{text}\n\nEdition {tag}-{n}."}) for n in range(count))
    return ("\n".join(lines) + "\n").encode()


def measure_batch_time(
    articles: int,
    latency_ms: float,
    concurrency: int,
    runs: int,
    database: dict[str, str],
    processes: int = 0,
) -> dict[str, Any]:
    """A batch through the in-process workers against the ideal N·L/C.

    `elapsed_seconds` is the batch's own time from its first item's start to its last item's end;
    `start_up` is from the submission's answer to the first start (the workers' poll and claim).
    `database`: `database_url` for PostgreSQL (procrastinate's queue), empty for a SQLite file.
    `processes`: 0 for the service's own workers, else that many `factline worker` processes sharing C.
    """
    ideal = articles * latency_ms / 1000 / concurrency
    rows = []
    with (
        running_fake_llm(latency_ms) as llm,
        service(
            llm.base_url,
            processes=1,
            worker_count=processes,
            batch_concurrency=str(concurrency // max(1, processes)),
            batch_poll_seconds="0.05",
            llm_max_concurrency=str(max(64, concurrency)),
            **database,
        ) as base,
        httpx.Client(timeout=120) as client,
    ):
        for run in range(runs):
            content = ndjson_articles(articles, f"time-{run}")
            headers = {"content-type": "application/x-ndjson"}
            submitted = time.monotonic()
            batch = (
                client.post(f"{base}/v1/batches", content=content, headers=headers).raise_for_status().json()
            )
            while (batch := batch_status(client, base, batch["id"]))["counts"]["pending"]:
                time.sleep(0.05)
            wall = time.monotonic() - submitted
            if batch["counts"]["succeeded"] != articles:
                failed = client.get(f"{base}/v1/batches/{batch['id']}/results").text
                raise AssertionError([line for line in failed.splitlines() if '"failed"' in line][:3])
            started = datetime.fromisoformat(batch["started_at"])
            created = datetime.fromisoformat(batch["created_at"])
            rows.append(
                {
                    "elapsed": batch["elapsed_seconds"],
                    "start_up": (started - created).total_seconds(),
                    "wall": wall,
                    "ratio": batch["elapsed_seconds"] / ideal,
                }
            )
    return {
        "articles": articles,
        "latency_ms": latency_ms,
        "concurrency": concurrency,
        "ideal": ideal,
        "runs": rows,
    }


# (HTTP processes, database): one on each database, and two (which need PostgreSQL).
THROUGHPUT_CASES = [(1, "SQLite"), (1, "PostgreSQL"), (2, "PostgreSQL")]
# (L in ms, C, smaller N, larger N): from the stress case (32 articles/s) to what hosted LLMs give.
BATCH_CASES = [(500, 16, 48, 400), (1000, 16, 48, 320), (2000, 16, 48, 240), (1000, 4, 12, 80)]
# procrastinate on PostgreSQL, the stress case and the middle one: in the service's process, and in
# two `factline worker` processes sharing C (the scale-out path; a process's event loop is the limit).
POSTGRES_BATCH_CASES = [(*case, processes) for case in BATCH_CASES[:2] for processes in (0, 2)]


def measure_batch_efficiency(
    latency_ms: float,
    concurrency: int,
    sizes: tuple[int, int],
    runs: int,
    new_database: Callable[[], dict[str, str]] = dict,
    queue: str = "database (SQLite)",
    processes: int = 0,
) -> dict[str, Any]:
    """The goal's own form, elapsed ≤ 1.05 × N·L/C + a constant start-up: batches of two sizes, and the
    line through their median times. Its slope is the efficiency; the constant holds what does not grow
    with N (the first claims, the last items' stragglers: with a few waves only, one extra round of
    L weighs on a plain ratio but is a constant). Each size gets a database of its own."""
    small, large = (
        measure_batch_time(n, latency_ms, concurrency, runs, new_database(), processes) for n in sizes
    )
    elapsed = [statistics.median(r["elapsed"] for r in size["runs"]) for size in (small, large)]
    slope = (elapsed[1] - elapsed[0]) / (large["ideal"] - small["ideal"])
    return {
        "queue": queue,
        "latency_ms": latency_ms,
        "concurrency": concurrency,
        "sizes": [small, large],
        "slope": slope,
        "constant": elapsed[0] - slope * small["ideal"],
    }


def _peak_rss_mb(pid: int) -> float:
    """The process's high-water mark of resident memory so far (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc: not Linux?")


def _current_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc: not Linux?")


def measure_archive_memory(megabytes: int, process_seconds: float) -> dict[str, Any]:
    """Peak RSS of the service accepting a large NDJSON archive, then processing it for a while.

    The archive (distinct 4 KB articles) is written to disk and streamed to the service from the file,
    so the client holds none of it. The peak is the kernel's high-water mark (VmHWM) of the uvicorn
    process, which holds the API and the workers; limits are raised to admit the archive.
    """
    path = Path(tempfile.mkdtemp(prefix="factline-bench-")) / "archive.ndjson"
    text = article_4k()
    target = megabytes * 1024 * 1024
    written = count = 0
    with path.open("w", encoding="utf-8") as output:
        while written < target:
            line = json.dumps({"id": f"big-{count}", "text": f"{text}\n\nEdition {count}."}) + "\n"
            output.write(line)
            written += len(line.encode())
            count += 1
    size = path.stat().st_size
    try:
        with (
            running_fake_llm(0) as llm,
            service_process(
                llm.base_url,
                batch_concurrency="16",
                batch_max_upload_bytes=str(size + 1),
                batch_max_total_bytes=str(size + 1),
                batch_max_files=str(count + 1),
            ) as (base, proc),
            httpx.Client(timeout=3600) as client,
        ):
            idle_mb = _current_rss_mb(proc.pid)

            def chunks() -> Iterator[bytes]:
                with path.open("rb") as archive:
                    while chunk := archive.read(1024 * 1024):
                        yield chunk

            started = time.monotonic()
            response = client.post(
                f"{base}/v1/batches", content=chunks(), headers={"content-type": "application/x-ndjson"}
            )
            batch = response.raise_for_status().json()
            accepted_seconds = time.monotonic() - started
            accepted_peak_mb = _peak_rss_mb(proc.pid)
            time.sleep(process_seconds)
            status = batch_status(client, base, batch["id"])
            return {
                "bytes": size,
                "articles": count,
                "idle_mb": idle_mb,
                "accept_seconds": accepted_seconds,
                "accept_peak_mb": accepted_peak_mb,
                "process_seconds": process_seconds,
                "processed": status["counts"]["succeeded"] + status["counts"]["failed"],
                "peak_mb": _peak_rss_mb(proc.pid),
            }
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)


def batch_sections(timing: list[dict[str, Any]], memory: dict[str, Any]) -> list[str]:
    lines = [
        "## Batch time",
        "",
        "Batches of N distinct 4 KB articles (NDJSON) through the service's own workers, the fake LLM "
        "answering after L, C calls at a time (`FACTLINE_BATCH_CONCURRENCY`). The goal: the batch's "
        "`elapsed_seconds` (first start to "
        "last end) within 1.05 × N·L/C plus a constant start-up. Each case runs a small and a large N; "
        "the line through their median times gives the efficiency (its slope, goal ≤ 1.05) and the "
        "constant. Queues: factline's own on a SQLite file (the default), and procrastinate on a local "
        "PostgreSQL 15 (what `FACTLINE_DATABASE_URL=postgresql+asyncpg://…` gets), started for the bench, "
        "with the service's own workers or with `factline worker` processes sharing C (C/2 each) beside "
        "a service that runs none.",
        "",
        "| queue | L | C | articles/s (C/L) | N | elapsed (median, min–max) | elapsed / (N·L/C) "
        "| efficiency (slope) | constant |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case in timing:
        first = True
        for size in case["sizes"]:
            runs = size["runs"]
            lines.append(
                f"| {case['queue'] if first else ''} | "
                f"{case['latency_ms'] / 1000:g} s | {case['concurrency']} | "
                f"{case['concurrency'] * 1000 / case['latency_ms']:g} | {size['articles']} | "
                f"{summary([r['elapsed'] for r in runs], 's', 2)} | "
                f"{statistics.median(r['ratio'] for r in runs):.3f} | "
                + (f"**{case['slope']:.3f}** | {case['constant']:.2f} s |" if first else " | |")
            )
            first = False
    lines += [
        "",
        "## Memory with a large archive",
        "",
        f"An NDJSON archive of {memory['bytes'] / 1024 / 1024:.0f} MB ({memory['articles']} distinct 4 KB "
        "articles) streamed to `POST /v1/batches` from a file, then processed with 16 LLM calls at a time "
        "(32 items held) and an instant "
        f"fake LLM for {memory['process_seconds']:g} s ({memory['processed']} articles done by then). "
        "Resident memory of the `factline serve` process (API and workers) read from `/proc/<pid>/status`: "
        "VmRSS when idle, VmHWM (the kernel's peak) after the upload and at the end. Goal: under 300 MB.",
        "",
        "| idle | peak while accepting | peak accepting and processing | upload accepted in |",
        "|---|---|---|---|",
        f"| {memory['idle_mb']:.0f} MB | {memory['accept_peak_mb']:.0f} MB | {memory['peak_mb']:.0f} MB | "
        f"{memory['accept_seconds']:.1f} s |",
    ]
    return lines


def answer_contents(fixture: dict[str, Any]) -> list[str]:
    """The model's answer of each recorded call (one exchange per call, one call per type)."""
    return [
        exchange["response"]["json"]["choices"][0]["message"]["content"]
        for exchange in fixture["exchanges"]
        if exchange["response"]["status_code"] == 200
    ]


def completion_per_item() -> list[dict[str, Any]]:
    rows = []
    for path in RECORDINGS:
        fixture = json.loads(path.read_text("utf-8"))
        answers = [json.loads(content) for content in answer_contents(fixture)]
        items = sum(len(value) for answer in answers for value in answer.values() if isinstance(value, list))
        tokens = fixture["summary"]["usage"]["completion_tokens"]
        rows.append({"article": path.stem, "completion_tokens": tokens, "items": items})
    return rows


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True).stdout
    return (
        f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"commit {commit.strip()}{' (with uncommitted changes)' if dirty.strip() else ''}, "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--archive-mb", type=int, default=1024, help="size of the large-archive test")
    parser.add_argument(
        "--batches-only", action="store_true", help="print the batch sections only; BENCHMARKS.md untouched"
    )
    args = parser.parse_args()
    install_wrk()
    print(f"load generator: {load_generator()}", flush=True)

    print("batch time...", flush=True)
    timing = [
        measure_batch_efficiency(latency, concurrency, (small, large), args.runs)
        for latency, concurrency, small, large in BATCH_CASES
    ]
    bin_dir = installed_binaries()
    if bin_dir is None:
        raise SystemExit(
            "PostgreSQL is needed for the procrastinate batch cases (apt-get install postgresql)"
        )
    with running_postgres(bin_dir) as postgres:
        timing += [
            measure_batch_efficiency(
                latency,
                concurrency,
                (small, large),
                args.runs,
                lambda: {"database_url": postgres.create_database()},
                "procrastinate (PostgreSQL), "
                + (f"{processes} worker processes" if processes else "service's workers"),
                processes,
            )
            for latency, concurrency, small, large, processes in POSTGRES_BATCH_CASES
        ]
    print(f"memory with a {args.archive_mb} MB archive...", flush=True)
    memory = measure_archive_memory(args.archive_mb, 30)
    batches = batch_sections(timing, memory)
    if args.batches_only:
        print("\n".join(batches))
        return

    print("overhead (fake LLM answering after 1 s)...", flush=True)
    speed_before = sum(measure_phases(200).values())
    overhead = {
        "sharing the machine's cores with the fake LLM and the client": measure_overhead(1000, args.runs, 15)
    }
    if split := split_cores():
        overhead["on a core of its own (the fake LLM and the client on the other)"] = measure_overhead(
            1000, args.runs, 15, split=split
        )
    stages = measure_stages(1000, 30)
    print("throughput (instant fake LLM)...", flush=True)
    with running_postgres(bin_dir) as postgres:
        throughput = {
            (processes, database): measure_throughput(
                args.runs,
                10,
                processes,
                **({"database_url": postgres.create_database()} if database == "PostgreSQL" else {}),
            )
            for processes, database in THROUGHPUT_CASES
        }
    print("repeated article...", flush=True)
    repeats = measure_repeats(200)
    print("CPU per phase...", flush=True)
    phases = measure_phases(200)
    recorded_grounding = measure_recorded_grounding(100)
    profile = measure_profile(20)
    print("tokens...", flush=True)
    tokens = measure_tokens()
    per_item = completion_per_item()

    lines = ["# Benchmarks", "", f"Measured on {machine()}. Produced by `make bench` (`bench/run.py`).", ""]
    lines += [
        "The machine's speed while it ran: the fixed workload of [CPU per extraction, by phase]"
        f"(#cpu-per-extraction-by-phase) took {speed_before:.2f} ms of CPU before the overhead runs and "
        f"{sum(phases.values()):.2f} ms after the throughput runs. On a shared virtual machine the same "
        "code's figures swing with it from hour to hour (on 2026-12-05 this workload took 2.28 ms at "
        "22:00 and 3.79 ms at 23:20): compare runs by it, and changes with `python -m bench.paired`, "
        "which measures both in the same minutes.",
        "",
    ]
    lines += [
        "## Overhead",
        "",
        "`POST /v1/extractions` latency minus the time the fake LLM took to answer as it measured it, "
        "from its HTTP parser's first sight of a request to its answer's hand-off to the socket (its 1 s "
        "latency, its event loop's timer overshoot, its parsing, reading and writing, as a provider's "
        "server time is its own; the 40 KB article's parts are "
        "answered concurrently, so one call's time). Sequential requests, one second apart, over one "
        "keep-alive connection from a socket that llhttp reads the answers from (`bench/wire_client.py`; "
        "a client's own time is not the service's: after an idle second `http.client` adds ~0.3 ms, "
        f"httpx ~1 ms), {args.runs} runs of 15. Median of the runs' percentiles (min–max "
        "across runs). On this machine the fake LLM and the client run beside the service; in production "
        "they are other machines. Measured twice: sharing the two cores with them, and on a core of its "
        "own (`os.sched_setaffinity`), where they cannot preempt it (the client woken by the response it "
        "reads, while the service is still sending it) nor share its core's caches.",
        "",
        "| service | article | p50 overhead | p99 overhead | p50 as share of a 1 s LLM call |",
        "|---|---|---|---|---|",
    ]
    for placement, sizes in overhead.items():
        for name, row in sizes.items():
            lines.append(
                f"| {placement} | {name} ({row['chars']} chars) | {summary(row['p50_ms'], 'ms', 2)} | "
                f"{summary(row['p99_ms'], 'ms', 2)} | {statistics.median(row['p50_ms']) / 10:.2f} % |"
            )
    staged = sum(stages["stages"].values())
    lines += [
        "",
        "### Where it goes",
        "",
        f"The 4 KB article, {stages['requests']} sequential requests a second apart (fake LLM at "
        f"{stages['latency_ms']:g} ms), through `python -m bench.stages serve`: `factline serve` with a "
        "time stamp where each stage begins and ends (`bench/stages.py`). Medians per stage; their "
        f"overhead's median here {stages['overhead']:.2f} ms; the service shares the cores. Beside each "
        "stage's wall time, the CPU time of the thread serving it: where the wall time is longer, the "
        "thread was not running (preempted, or its core waking). After the LLM's idle second the caches "
        "are cold: the same code takes about half as long under load (see CPU per extraction below).",
        "",
        "| stage | wall ms (median) | CPU ms (median) |",
        "|---|---|---|",
    ]
    lines += [
        f"| {stage} | {ms:.2f} | "
        + ("in the wait: the text reading" if stages["cpu"][stage] is None else f"{stages['cpu'][stage]:.2f}")
        + " |"
        for stage, ms in stages["stages"].items()
    ]
    lines.append(
        f"| client, loopback, uvicorn before the app (overhead − stages; the last stamp follows the "
        f"send) | {stages['overhead'] - staged:.2f} | |"
    )
    lines += [
        "",
        "## Throughput",
        "",
        "Extractions per second of the 4 KB article with an instant fake LLM, 32 concurrent connections, "
        f"{args.runs} runs of 10 s; load generator, fake LLM and service share the machine's cores. Each "
        "request has a title of its own (unique across runs), so none is a cache hit; the text is the "
        "same, so the fake LLM answers from memory and the quote candidates are found once per process. "
        "`factline serve` with `FACTLINE_WEB_PROCESSES`, loaded once every process listens; more than one "
        "process needs PostgreSQL (local, started for the bench, its server on the same cores).",
        "",
        "| HTTP processes | database | extractions/s | load generator |",
        "|---|---|---|---|",
    ]
    for (processes, database), (rates, load) in throughput.items():
        lines.append(f"| {processes} | {database} | {summary(rates, '/s')} | {load} |")
    lines += [
        "",
        "## Repeated article",
        "",
        f"The 4 KB article posted {repeats['requests']} more times after a first extraction (LLM at 1 s): "
        f"{repeats['cached']} answered from the cache with `cached: true`, {repeats['llm_calls']} LLM calls, "
        f"latency p50 {repeats['p50_ms']:.1f} ms, p99 {repeats['p99_ms']:.1f} ms (client included).",
    ]
    lines += [
        "",
        "## CPU per extraction, by phase",
        "",
        "CPU time (process_time) per 4 KB extraction, each phase run 200 times on the same inputs; the LLM "
        "call goes through the real openai + instructor stack over a mocked HTTP transport.",
        "",
        "| phase | CPU ms |",
        "|---|---|",
    ]
    lines += [f"| {phase} | {ms:.2f} |" for phase, ms in phases.items()]
    lines.append(f"| **total** | **{sum(phases.values()):.2f}** |")
    lines += [
        "",
        "### Grounding real-model answers",
        "",
        "The fake LLM copies its excerpts from the article, so each is found at once. The recorded answers "
        "of a real model (`fixtures/llm`, Qwen2.5-Coder-1.5B, all four types) hold excerpts found only "
        "after normalising or by fuzzy matching, and excerpts, dates and names that are not in the text, "
        "each searched for before it is dropped. Grounding and assembly of each, CPU per extraction "
        "(100 runs; the text read beforehand, as in the LLM's wait):",
        "",
        "| article | chars | items returned | exact / normalized / fuzzy | warnings | CPU ms |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| `{row['article']}` | {row['chars']} | {row['items']} | "
        f"{row['matches']['exact']} / {row['matches']['normalized']} / {row['matches']['fuzzy']} | "
        f"{row['warnings']} | {row['cpu_ms']:.2f} |"
        for row in recorded_grounding
    ]
    lines += ["", "### In the running service, from a profiler", ""]
    if "error" in profile:
        lines.append(f"Not measured: py-spy could not sample the service ({profile['error']}).")
    else:
        lines += [
            f"The service (one process, SQLite) under the throughput load ({profile['load']}) for "
            f"{profile['seconds']} s, sampled by py-spy at 250 Hz ({profile['samples']} samples of its event "
            f"loop's thread): its CPU time per extraction, {profile['cpu_ms']:.2f} ms at "
            f"{profile['rate']:.0f} extractions/s, split by where the samples fell. Under load the text "
            "reading is CPU like any other; with a slow LLM it is done in the wait.",
            "",
            "| phase | share of samples | CPU ms per extraction |",
            "|---|---|---|",
        ]
        lines += [
            f"| {phase} | {share * 100:.1f} % | {share * profile['cpu_ms']:.2f} |"
            for phase, share in profile["phases"].items()
        ]
    lines += ["", "## Tokens", ""]
    if tokens is None:
        lines.append(
            "Not measured: the embedded Qwen model (its tokenizer) is not set up (`factline setup-local`)."
        )
    else:
        lines += [
            "Counted with the embedded Qwen2.5-Coder tokenizer (llama-server `/tokenize`). `prompt` is the "
            "chat-templated messages of every call; `schema` is each call's JSON schema, which OpenAI counts "
            "as prompt and llama.cpp turns into a grammar instead. One call per type repeats the shared "
            "prefix (instructions, worked example, article) in each call: llama.cpp processes it once "
            "(prompt cache), a hosted API bills it each time. The target (article + 1,500) is per call: "
            "prompt alone on llama.cpp (the embedded model: one call per type), prompt and schema on a "
            "hosted API (one call, the default with an endpoint).",
            "",
            "| article | calls | article tokens | prompt tokens, all calls | schema tokens, all calls "
            "| largest call: prompt − article | largest call: prompt + schema − article |",
            "|---|---|---|---|---|---|---|",
        ]
        for row in tokens["rows"]:
            lines.append(
                f"| `{row['article']}` | {row['calls']} ({row['plan']}) | {row['article_tokens']} | "
                f"{row['prompt_tokens']} | {row['schema_tokens']} | {row['largest_prompt_extra']} | "
                f"{row['largest_call_extra']} |"
            )
    lines += [
        "",
        "Completion tokens per item the model returned, from the recorded exchanges "
        "(Qwen2.5-Coder-1.5B, all four types):",
        "",
        "| article | completion tokens | items | tokens per item |",
        "|---|---|---|---|",
    ]
    for row in per_item:
        lines.append(
            f"| `{row['article']}` | {row['completion_tokens']} | {row['items']} | "
            f"{row['completion_tokens'] / max(row['items'], 1):.0f} |"
        )
    lines += ["", *batches]
    Path(args.output).write_text("\n".join(lines) + "\n", "utf-8")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
