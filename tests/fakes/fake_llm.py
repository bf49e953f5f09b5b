"""A fake OpenAI-compatible chat-completions server, in its own process, for benchmarks and fault tests.

It answers `POST /v1/chat/completions` after a configurable latency with a schema-valid extraction
built from the article in the request: every numbered quote candidate is read as a direct quote,
"said that ..." clauses become reported quotes, sentences become events and positions, capitalised
names become actors. Everything it returns is copied from the article, so the service's grounding
does real work on it. `GET /v1/models` answers for readiness probes.

Faults, for the reliability tests and the load test: each completion behaves as the first of
  1. a marker in the article, `FAKE-LLM:<fault>` (for concurrent clients: the article chooses);
  2. the next entry of the queue that `POST /_script` set (`{"queue": [...], "default": ...}`);
  3. the default (`ok` unless `/_script` changed it).
A behaviour is a fault name, optionally with `:<seconds>` (`rate_limit:2` sends Retry-After: 2,
`hang:5` hangs 5 s, `slow:1.5` answers correctly after 1.5 s). `GET /_stats` counts completions
by behaviour and the tokens billed; `POST /_reset` clears counts and the script.

    python -m tests.fakes.fake_llm --port 8090 --latency-ms 1000
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import socket
import struct
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from factline.local_llm import free_port

ROOT = Path(__file__).resolve().parent.parent.parent

_REPORTED = re.compile(r"\bsaid that ([^.\n]{12,200})")
_SENTENCE = re.compile(r"[^.!?\n]{30,240}[.!?]")
_NAME = re.compile(r"\b([A-Z][a-z]+(?: [A-Z][a-z]+)+)\b")
_MARKER = re.compile(r"FAKE-LLM:([a-z_0-9]+(?::[0-9.]+)?)")

FAULTS = (
    "ok",  # a correct, grounded answer
    "slow",  # a correct answer after `:<seconds>` (default 1)
    "rate_limit",  # 429 with Retry-After `:<seconds>` (default 1)
    "error_500",
    "error_503",
    "reset",  # the TCP connection is reset before any response
    "hang",  # no answer for `:<seconds>` (default an hour): past any sane timeout
    "truncated",  # the model's JSON cut off in the middle (finish_reason stop)
    "invalid_schema",  # well-formed JSON that breaks the schema
    "ungrounded",  # a correct answer plus quotes and actors that are not in the article
    "refusal",  # OpenAI's refusal field, no content
)
INVENTED_QUOTE = "We will never negotiate with anyone, under any circumstances whatsoever"
INVENTED_SPEAKER = "Zebulon Quartermaine"


def _article(messages: list[dict[str, Any]]) -> str:
    """The last user message that holds an article: the worked example's comes earlier, and the task
    and a re-ask's validation errors come after it."""
    users = [str(m["content"]) for m in messages if m["role"] == "user"]
    user = next((u for u in reversed(users) if "Article:\n" in u), users[-1] if users else "")
    return user.split("Article:\n", 1)[-1].split("\n\nQuote candidates:\n", 1)[0]


def synthetic_facts(article: str, lists: dict[str, Any]) -> dict[str, Any]:
    """An answer a diligent model could give: every string is copied from the article.

    `lists` are the schema's properties: the quote candidates' count is the `quotes` list's length.
    """
    names = list(dict.fromkeys(_NAME.findall(article)))[:10]
    speaker = names[0] if names else None
    sentences = [s.strip() for s in _SENTENCE.findall(article)]
    facts: dict[str, Any] = {}
    if "actors" in lists:
        facts["actors"] = [
            {"name": n, "kind": "person", "roles": [], "mentions": [n.split()[-1]]} for n in names
        ]
    if "quotes" in lists:
        candidates = lists["quotes"].get("minItems", 0)
        facts["quotes"] = [{"n": n, "kind": "direct", "speaker": speaker} for n in range(1, candidates + 1)]
    if "reported_quotes" in lists:
        facts["reported_quotes"] = [
            {"text": q.strip(), "speaker": speaker, "kind": "indirect", "verb": "said"}
            for q in _REPORTED.findall(article)[:5]
        ]
    if "events" in lists:
        facts["events"] = [
            {"summary": s[:60], "excerpt": s, "date_text": None, "location": None, "participants": names[:1]}
            for s in sentences[:12]
        ]
    if "positions" in lists:
        facts["positions"] = [
            {"holder": speaker, "topic": "the war", "stance": "neutral", "summary": s[:60], "excerpt": s}
            for s in sentences[12:22]
            if speaker
        ]
    if "proposals" in lists:
        facts["proposals"] = [
            {"summary": s[:60], "excerpt": s, "proposers": names[:1], "supporters": [], "opponents": [],
             "status": "proposed"}
            for s in sentences[22:30]
        ]  # fmt: skip
    return facts


def _requested_lists(request: dict[str, Any]) -> dict[str, Any]:
    schema = request.get("response_format", {}).get("json_schema", {}).get("schema", {})
    return dict(schema.get("properties", {}))


def faulty_content(fault: str, request: dict[str, Any]) -> tuple[str | None, str | None]:
    """The assistant message's content and refusal for a fault that answers 200."""
    facts = synthetic_facts(_article(request.get("messages", [])), _requested_lists(request))
    if fault == "refusal":
        return None, "I can't help with that."
    if fault == "invalid_schema":
        return json.dumps({"actors": "nobody", "quotes": [{"text": 5, "kind": "shouted"}]}), None
    if fault == "ungrounded":
        facts.setdefault("actors", []).append(
            {"name": INVENTED_SPEAKER, "kind": "person", "roles": [], "mentions": []}
        )
        facts.setdefault("reported_quotes", []).append(
            {"text": INVENTED_QUOTE, "speaker": INVENTED_SPEAKER, "kind": "direct", "verb": "said"}
        )
    content = json.dumps(facts, ensure_ascii=False)
    if fault == "truncated":
        content = content[: len(content) // 2]
    return content, None


def completion(
    request: dict[str, Any], content: str | None = None, refusal: str | None = None
) -> dict[str, Any]:
    if content is None and refusal is None:
        facts = synthetic_facts(_article(request.get("messages", [])), _requested_lists(request))
        content = json.dumps(facts, ensure_ascii=False)
    prompt_tokens = len(json.dumps(request.get("messages", []))) // 4
    completion_tokens = len(content or refusal or "") // 4
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if refusal is not None:
        message["refusal"] = refusal
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake"),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def _json(
    status: int, payload: Any, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    return status, json.dumps(payload).encode(), headers or {}


def _error(
    status: int, message: str, headers: dict[str, str] | None = None
) -> tuple[int, bytes, dict[str, str]]:
    return _json(status, {"error": {"message": message, "type": "fake", "code": None}}, headers)


def _encoded(answer: dict[str, Any]) -> tuple[bytes, int, int]:
    usage = answer["usage"]
    return json.dumps(answer).encode(), usage["prompt_tokens"], usage["completion_tokens"]


def _reset_connection(send: Any) -> None:
    """A TCP reset, as from a crashed proxy: linger 0 and abort, so the kernel sends RST, no FIN."""
    transport = send.__self__.transport  # uvicorn's request cycle holds the connection's transport
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


ARRIVED = "fake_llm.arrived"


class StampingHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's HTTP protocol, stamping each request's scope with when its first bytes were parsed:
    the HTTP parsing before the app is called is the fake's time, as a provider's is its own."""

    def on_message_begin(self) -> None:
        arrived = time.perf_counter()
        super().on_message_begin()
        self.scope[ARRIVED] = arrived  # type: ignore[literal-required]


class FakeLLM:
    """A bare ASGI app: no framework, so the fake costs as little CPU as possible under load."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        # Benchmarks send the same article over and over: answering from memory keeps the fake's own CPU
        # out of the service's figures (both share the machine's cores).
        self._answers: dict[bytes, tuple[bytes, int, int]] = {}
        self.completions = 0
        # Time from a completion request's first bytes in this process to its answer's hand-off to the
        # socket: benchmarks subtract it rather than the nominal latency, which the event loop's timers
        # overshoot by up to a millisecond, and it holds the fake's own parsing, reading and writing.
        self.answering_ms = 0.0
        self.by_fault: Counter[str] = Counter()
        self.tokens: Counter[str] = Counter()
        self.queue: list[str] = []
        self.default = "ok"

    def _behaviour(self, article: str) -> str:
        if "FAKE-LLM:" in article and (marker := _MARKER.search(article)):
            return marker.group(1)
        if self.queue:
            return self.queue.pop(0)
        return self.default

    async def _complete(
        self, body: bytes, send: Any, started: float
    ) -> tuple[int, bytes, dict[str, str]] | None:
        request = json.loads(body)
        behaviour = self._behaviour(_article(request.get("messages", [])))
        fault, _, argument = behaviour.partition(":")
        seconds = float(argument) if argument else None
        self.by_fault[fault] += 1
        if fault == "rate_limit":
            after = seconds if seconds is not None else 1
            return _error(429, "Rate limit reached", {"retry-after": f"{after:g}"})
        if fault in ("error_500", "error_503"):
            return _error(int(fault[-3:]), "The server had an error while processing your request.")
        if fault == "reset":
            _reset_connection(send)
            return None
        if fault == "hang":
            await asyncio.sleep(seconds if seconds is not None else 3600)
            return _error(500, "hung")
        if fault in ("ok", "slow"):
            # The answer depends on the article and the lists asked for, not on the rest of the prompt.
            key = hashlib.sha256(
                (_article(request.get("messages", [])) + json.dumps(request.get("response_format"))).encode()
            ).digest()
            if (answer := self._answers.get(key)) is None:
                answer = self._answers[key] = _encoded(completion(request))
        elif fault in FAULTS:
            answer = _encoded(completion(request, *faulty_content(fault, request)))
        else:
            return _error(400, f"unknown fake fault {behaviour!r}; known: {', '.join(FAULTS)}")
        payload, prompt_tokens, completion_tokens = answer
        self.tokens["prompt_tokens"] += prompt_tokens
        self.tokens["completion_tokens"] += completion_tokens
        latency = seconds if fault == "slow" and seconds is not None else 1.0 if fault == "slow" else 0
        await asyncio.sleep(max(0.0, max(latency, self.latency_s) - (time.perf_counter() - started)))
        return 200, payload, {}

    def _script(self, body: bytes) -> tuple[int, bytes, dict[str, str]]:
        script = json.loads(body or b"{}")
        self.queue = list(script.get("queue", []))
        self.default = script.get("default", "ok")
        return _json(200, {"queue": self.queue, "default": self.default})

    def _reset(self) -> tuple[int, bytes, dict[str, str]]:
        self.completions = 0
        self.answering_ms = 0.0
        self.by_fault.clear()
        self.tokens.clear()
        self.queue, self.default = [], "ok"
        return _json(200, {"reset": True})

    def _stats(self) -> tuple[int, bytes, dict[str, str]]:
        return _json(
            200,
            {"completions": self.completions, "by_fault": self.by_fault, "tokens": self.tokens,
             "queue": self.queue, "default": self.default, "answering_ms": self.answering_ms},
        )  # fmt: skip

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        arrived = scope.get(ARRIVED, time.perf_counter())
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        path = scope["path"]
        answer: tuple[int, bytes, dict[str, str]] | None
        completion = path.endswith("/chat/completions")
        if completion:
            self.completions += 1
            answer = await self._complete(body, send, arrived)
            if answer is None:
                return  # the connection is gone
        elif path == "/_stats":
            answer = self._stats()
        elif path == "/_script" and scope["method"] == "POST":
            answer = self._script(body)
        elif path == "/_reset" and scope["method"] == "POST":
            answer = self._reset()
        elif path.endswith("/models"):
            answer = 200, b'{"object":"list","data":[{"id":"fake","object":"model"}]}', {}
        else:
            answer = _error(404, "not found")
        status, payload, headers = answer
        raw_headers = [(b"content-type", b"application/json")]
        raw_headers += [(name.encode(), value.encode()) for name, value in headers.items()]
        await send({"type": "http.response.start", "status": status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})
        if completion and status == 200:  # the answer is in the socket's buffer now
            self.answering_ms += (time.perf_counter() - arrived) * 1000


@dataclass(frozen=True)
class RunningFakeLLM:
    base_url: str

    @property
    def root(self) -> str:
        return self.base_url.removesuffix("/v1")

    def completions(self) -> int:
        """How many chat completions the fake has been asked for so far (faulty ones included)."""
        return int(self.stats()["completions"])

    def stats(self) -> dict[str, Any]:
        """Completions asked for, by behaviour, and the tokens billed for the answers."""
        return dict(httpx.get(f"{self.root}/_stats", timeout=5).json())

    def answering_ms(self) -> float:
        """The fake's own time spent answering completions so far (its latency as it measured it)."""
        return float(self.stats()["answering_ms"])

    def script(self, *queue: str, default: str = "ok") -> None:
        """The next completions behave as `queue` says, in order; later ones as `default`."""
        httpx.post(f"{self.root}/_script", json={"queue": list(queue), "default": default}, timeout=5)

    def reset(self) -> None:
        httpx.post(f"{self.root}/_reset", timeout=5).raise_for_status()


@contextmanager
def running_fake_llm(latency_ms: float = 0.0) -> Iterator[RunningFakeLLM]:
    """The fake in its own process on a free loopback port, stopped after the block."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "tests.fakes.fake_llm",
        "--port",
        str(port),
        "--latency-ms",
        str(latency_ms),
    ]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    fake = RunningFakeLLM(f"http://127.0.0.1:{port}/v1")
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{fake.base_url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.05)
        yield fake
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    uvicorn.run(
        FakeLLM(args.latency_ms / 1000), host="127.0.0.1", port=args.port, log_level="warning",
        access_log=False, loop="uvloop", http=StampingHttpToolsProtocol,
        timeout_graceful_shutdown=1,  # a hanging answer must not hold the fake's exit
    )  # fmt: skip


if __name__ == "__main__":
    main()
