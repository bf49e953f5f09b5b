"""Helpers of the batch tests: archives built in memory, canned LLM answers, waiting for a batch."""

from __future__ import annotations

import asyncio
import io
import json
import tarfile
import zipfile
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import AsyncTestClient
from pytest_httpx import HTTPXMock

from tests.conftest import COMPLETIONS_URL

# No quote candidate read: an article with quotation marks gets `unread` warnings, which batches pass on.
EMPTY_FACTS: dict[str, list[Any]] = {
    "actors": [], "quotes": [], "reported_quotes": [], "events": [], "positions": [], "proposals": []
}  # fmt: skip


def article_text(n: int) -> str:
    return f"Berlin – Minister Anna Weber said on Monday that plan number {n} must go ahead."


def facts_for(text: str) -> dict[str, Any]:
    """A model answer that grounds on `article_text(n)`: one actor and one quote."""
    quoted = text.split("said on Monday that ", 1)[1].rstrip(".") if "said on Monday that " in text else None
    if quoted is None:
        return EMPTY_FACTS
    return {
        **EMPTY_FACTS,
        "actors": [{"name": "Anna Weber", "kind": "person", "roles": ["Minister"], "mentions": []}],
        "reported_quotes": [{"text": quoted, "speaker": "Anna Weber", "kind": "indirect", "verb": "said"}],
    }


def completion(facts: dict[str, Any]) -> dict[str, Any]:
    """A chat completion as an OpenAI-compatible server answers it (cf. fixtures/llm/authored)."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1763780000,
        "model": "qwen2.5-coder-1.5b-instruct-q4_k_m",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": json.dumps(facts)},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120},
    }


def answer_from_article(request: httpx.Request) -> dict[str, Any]:
    article = json.loads(request.content)["messages"][-2]["content"]  # the last one is the task
    return completion(facts_for(article.split("Article:\n", 1)[1]))


def llm_answers_every_article(httpx_mock: HTTPXMock) -> None:
    """The fake LLM answers each article with its own grounded quote, as often as asked."""
    httpx_mock.add_callback(
        lambda request: httpx.Response(200, json=answer_from_article(request)),
        url=COMPLETIONS_URL,
        method="POST",
        is_reusable=True,
        is_optional=True,
    )


def llm_calls(httpx_mock: HTTPXMock) -> int:
    return len(httpx_mock.get_requests(url=COMPLETIONS_URL))


def ndjson(articles: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(article).encode() + b"\n" for article in articles)


def zip_archive(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_archive(files: dict[str, bytes], compression: str = "") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=f"w:{compression}") as archive:  # type: ignore[call-overload]
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def text_files(count: int) -> dict[str, bytes]:
    return {f"news/article-{n:02}.txt": article_text(n).encode() for n in range(count)}


async def submit(
    client: AsyncTestClient[Litestar],
    body: bytes,
    content_type: str = "application/octet-stream",
    query: str = "",
) -> dict[str, Any]:
    response = await client.post(f"/v1/batches{query}", content=body, headers={"content-type": content_type})
    assert response.status_code == 202, response.text
    batch = dict(response.json())
    assert response.headers["location"] == f"/v1/batches/{batch['id']}"
    return batch


async def wait_until_finished(client: AsyncTestClient[Litestar], batch_id: str) -> dict[str, Any]:
    """Poll the batch as a client would, until nothing is pending."""
    async with asyncio.timeout(15):
        while True:
            batch = dict((await client.get(f"/v1/batches/{batch_id}")).json())
            if batch["counts"]["pending"] == 0:
                return batch
            await asyncio.sleep(0.05)


async def results(client: AsyncTestClient[Litestar], batch_id: str, query: str = "") -> list[dict[str, Any]]:
    response = await client.get(f"/v1/batches/{batch_id}/results{query}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]
