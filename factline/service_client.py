"""The service seen from outside, for `factline extract` and `factline batch`: articles from local
files to the HTTP API, problems back as exceptions. The same code talks to a server over the network
or to the app in-process (an httpx client over the ASGI app)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import anyio
import httpx

UPLOAD_CHUNK = 1 << 20
RESUMES = 5


class BadFile(Exception):
    """A local file that cannot be sent: missing, unreadable, not UTF-8, not a JSON object."""


class Unreachable(Exception):
    """No answer from the service (connection refused, DNS, timeout)."""


@dataclass
class ProblemAnswer(Exception):
    """The service answered an RFC 9457 problem (or another error status)."""

    status: int
    problem: dict[str, Any]

    def __str__(self) -> str:
        kind = str(self.problem.get("type", "")).rsplit(":", 1)[-1] or "error"
        return (
            f"{self.status} {kind}: {self.problem.get('detail') or self.problem.get('title') or ''}".strip()
        )


def _reason(error: Exception) -> str:
    return str(error) or type(error).__name__


def _problem(response: httpx.Response) -> ProblemAnswer:
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text[:500]}
    return ProblemAnswer(response.status_code, body if isinstance(body, dict) else {"detail": str(body)})


def article_request(path: Path, published_at: str | None, types: list[str] | None) -> dict[str, Any]:
    """An article file as request arguments: a `.json` file is the JSON request itself (options fill in
    what it lacks); any other file is the text, sent as text/plain with its file name as `id`."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise BadFile(f"{path}: cannot read it ({error.strerror or error})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadFile(f"{path}: not UTF-8 text (bad byte at offset {error.start})") from None
    if path.suffix.lower() == ".json":
        try:
            body = json.loads(text)
        except json.JSONDecodeError as error:
            raise BadFile(f"{path}: not valid JSON ({error.msg}, line {error.lineno})") from None
        if not isinstance(body, dict):
            raise BadFile(f"{path}: a JSON article must be an object with a `text` field")
        body.setdefault("id", path.name)
        if published_at:
            body.setdefault("published_at", published_at)
        if types:
            body.setdefault("types", types)
        return {"json": body}
    params: dict[str, str] = {"id": path.name}
    if published_at:
        params["published_at"] = published_at
    if types:
        params["types"] = ",".join(types)
    return {"content": raw, "params": params, "headers": {"content-type": "text/plain; charset=utf-8"}}


async def _send(client: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TransportError as error:
        raise Unreachable(
            f"cannot reach the service at {client.base_url}: {error or type(error).__name__}"
        ) from None
    if response.status_code >= 400:
        raise _problem(response)
    return response


async def extract(client: httpx.AsyncClient, request: dict[str, Any]) -> dict[str, Any]:
    response = await _send(client, "POST", "/v1/extractions", **request)
    extraction: dict[str, Any] = response.json()
    return extraction


async def _chunks(file: BinaryIO) -> AsyncIterator[bytes]:
    while chunk := await anyio.to_thread.run_sync(file.read, UPLOAD_CHUNK):
        yield chunk


async def submit_batch(client: httpx.AsyncClient, archive: Path, types: list[str] | None) -> dict[str, Any]:
    """Upload the archive, streamed from disk; the batch as the service answered it."""
    try:
        file = archive.open("rb")
    except OSError as error:
        raise BadFile(f"{archive}: cannot read it ({error.strerror or error})") from None
    with file:
        response = await _send(
            client,
            "POST",
            "/v1/batches",
            content=_chunks(file),
            params={"types": ",".join(types)} if types else None,
            headers={"content-type": "application/octet-stream"},
        )
    batch: dict[str, Any] = response.json()
    return batch


async def follow_results(
    client: httpx.AsyncClient, batch_id: str, on_line: Callable[[bytes], None]
) -> dict[str, Any]:
    """Every result line, as it is written, until the batch has finished; a dropped connection resumes
    after the last cursor read. Returns the finished batch."""
    cursor = 0
    for _ in range(RESUMES):
        try:
            async with client.stream(
                "GET", f"/v1/batches/{batch_id}/results", params={"after": cursor}, timeout=None
            ) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise _problem(response)
                async for line in response.aiter_lines():
                    if line.strip():
                        on_line(line.encode("utf-8") + b"\n")
                        cursor = int(json.loads(line)["cursor"])
            break
        except (httpx.RemoteProtocolError, httpx.ReadError) as error:
            dropped: Exception = error
        except httpx.TransportError as error:
            raise Unreachable(f"lost the service at {client.base_url}: {_reason(error)}") from None
    else:
        raise Unreachable(f"the results stream broke {RESUMES} times: {_reason(dropped)}")
    batch: dict[str, Any] = (await _send(client, "GET", f"/v1/batches/{batch_id}")).json()
    return batch
