"""Recorded LLM exchanges served as an httpx transport, so the harness runs offline and deterministically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx


class StaleRecording(RuntimeError):
    """The service asked something the recording has no answer for: the prompt or schema changed."""


class ReplayTransport(httpx.AsyncBaseTransport):
    """Answers each chat completion with the recorded response to the identical request.

    Requests are matched by their JSON body, not their order, so concurrent calls replay too.
    """

    def __init__(self, recording: Path) -> None:
        data = json.loads(recording.read_text("utf-8"))
        self.recording = recording
        self.recorded: dict[str, Any] = data["recorded"]
        self._pending: list[dict[str, Any]] = list(data["exchanges"])
        self.stale: str | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(await request.aread())
        for position, exchange in enumerate(self._pending):
            if exchange["request"]["json"] == body:
                del self._pending[position]
                response = exchange["response"]
                return httpx.Response(
                    response["status_code"], headers=response.get("headers") or {}, json=response["json"]
                )
        self.stale = (
            f"{self.recording.name} has no answer for this request (prompt or schema changed since "
            f"{self.recorded.get('started_at')}): re-record with `make record`"
        )
        raise StaleRecording(self.stale)
