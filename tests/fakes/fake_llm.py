"""A fake OpenAI-compatible chat-completions server, in its own process, for benchmarks and fault tests.

It answers `POST /v1/chat/completions` after a configurable latency with a schema-valid extraction
built from the article in the request: every numbered quote candidate is read as a direct quote,
"said that ..." clauses become reported quotes, sentences become events and positions, capitalised
names become actors. Everything it returns is copied from the article, so the service's grounding
does real work on it. `GET /v1/models` answers for readiness probes.

    python -m tests.fakes.fake_llm --port 8090 --latency-ms 1000
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from factline.local_llm import free_port

ROOT = Path(__file__).resolve().parent.parent.parent

_REPORTED = re.compile(r"\bsaid that ([^.\n]{12,200})")
_SENTENCE = re.compile(r"[^.!?\n]{30,240}[.!?]")
_NAME = re.compile(r"\b([A-Z][a-z]+(?: [A-Z][a-z]+)+)\b")


def _article(messages: list[dict[str, Any]]) -> str:
    """The user message before the task: the article (earlier ones are the worked example)."""
    users = [m["content"] for m in messages if m["role"] == "user"]
    user = users[-2] if len(users) > 1 else users[-1] if users else ""
    return str(user).split("Article:\n", 1)[-1].split("\n\nQuote candidates:\n", 1)[0]


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


def completion(request: dict[str, Any]) -> dict[str, Any]:
    schema = request.get("response_format", {}).get("json_schema", {}).get("schema", {})
    lists = schema.get("properties", {})
    content = json.dumps(synthetic_facts(_article(request.get("messages", [])), lists), ensure_ascii=False)
    prompt_tokens = len(json.dumps(request.get("messages", []))) // 4
    completion_tokens = len(content) // 4
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "fake"),
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class FakeLLM:
    """A bare ASGI app: no framework, so the fake costs as little CPU as possible under load."""

    def __init__(self, latency_s: float) -> None:
        self.latency_s = latency_s
        # Benchmarks send the same article over and over: answering from memory keeps the fake's own CPU
        # out of the service's figures (both share the machine's cores).
        self._answers: dict[bytes, bytes] = {}
        self.completions = 0
        # Time from a request's last byte to its answer, as this process saw it: benchmarks subtract it
        # rather than the nominal latency, which the event loop's timers overshoot by up to a millisecond.
        self.answering_ms = 0.0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if scope["path"].endswith("/chat/completions"):
            self.completions += 1
            started = time.perf_counter()
            request = json.loads(body)
            # The answer depends on the article and the lists asked for, not on the rest of the prompt.
            key = hashlib.sha256(
                (_article(request.get("messages", [])) + json.dumps(request.get("response_format"))).encode()
            ).digest()
            if (payload := self._answers.get(key)) is None:
                payload = self._answers[key] = json.dumps(completion(request)).encode()
            await asyncio.sleep(max(0.0, self.latency_s - (time.perf_counter() - started)))
            self.answering_ms += (time.perf_counter() - started) * 1000
            status = 200
        elif scope["path"] == "/_stats":
            stats = {"completions": self.completions, "answering_ms": self.answering_ms}
            payload, status = json.dumps(stats).encode(), 200
        elif scope["path"].endswith("/models"):
            payload, status = b'{"object":"list","data":[{"id":"fake","object":"model"}]}', 200
        else:
            payload, status = b'{"error":{"message":"not found"}}', 404
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": payload})


@dataclass(frozen=True)
class RunningFakeLLM:
    base_url: str

    def stats(self) -> dict[str, float]:
        return dict(httpx.get(self.base_url.removesuffix("/v1") + "/_stats", timeout=5).json())

    def completions(self) -> int:
        """How many chat completions the fake has answered so far."""
        return int(self.stats()["completions"])

    def answering_ms(self) -> float:
        """The fake's own time spent answering completions so far (its latency as it measured it)."""
        return self.stats()["answering_ms"]


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
        access_log=False, loop="uvloop", http="httptools",
    )  # fmt: skip


if __name__ == "__main__":
    main()
