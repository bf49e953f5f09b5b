"""The README's batch commands, verbatim, against a real uvicorn server (the LLM faked for llm.test)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from pytest_httpx import HTTPXMock

from tests.batch_support import answer_from_article
from tests.conftest import COMPLETIONS_URL, LiveServer
from tests.e2e.test_live_server import README_PORT, readme_batch_commands, run_shell

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not all(map(shutil.which, ["curl", "tar", "zip", "jq"])), reason="needs curl, tar, zip, jq"
    ),
]


README_ZIP = "/tmp/factline-articles.zip"


def llm_answers_after(httpx_mock: HTTPXMock, seconds: float) -> None:
    async def answer(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(seconds)
        return httpx.Response(200, json=answer_from_article(request))

    httpx_mock.add_callback(answer, url=COMPLETIONS_URL, is_reusable=True, is_optional=True)


def run(command: str, server: LiveServer) -> str:
    result = run_shell(command.replace(README_PORT, f"127.0.0.1:{server.port}"))
    assert result.returncode == 0, result.stderr
    return result.stdout


def json_documents(text: str) -> list[Any]:
    """Consecutive JSON documents, as several curl calls print them."""
    decoder, documents, position = json.JSONDecoder(), [], 0
    while position < len(text.rstrip()):
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
        while position < len(text) and text[position].isspace():
            position += 1
    return documents


def test_readme_batch_commands_submit_and_follow(
    live_server: LiveServer, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    commands = readme_batch_commands()
    assert len(commands) == 7, commands
    ndjson_block, tar_gz_block, tar_block, zip_block, follow_block, _, _ = commands
    # The README zips into /tmp; `zip` adds to an archive already there, so each run makes its own.
    assert README_ZIP in zip_block
    zip_block = zip_block.replace(README_ZIP, str(tmp_path / "factline-articles.zip"))
    llm_answers_after(httpx_mock, 0.0)

    for block, kind, ids_start in [
        (ndjson_block, "ndjson", None),
        (tar_gz_block, "tar.gz", "fixtures/articles/"),
        (tar_block, "tar", "fixtures/articles/"),
        (zip_block, "zip", None),
    ]:
        [batch] = json_documents(run(block, live_server))
        assert batch["archive"] == kind
        assert batch["counts"]["total"] == 5
        if kind == "tar.gz":
            assert batch["types"] == ["quote", "event"]
        if kind == "zip":
            assert batch["filename"] == "factline-articles.zip"
        lines = httpx.get(f"{live_server.base_url}{batch['results_url']}", timeout=30).text.splitlines()
        article_ids = sorted(json.loads(line)["article_id"] for line in lines)
        assert len(article_ids) == 5
        if ids_start:
            assert all(article_id.startswith(ids_start) for article_id in article_ids)

    output = run(follow_block, live_server)
    assert "event: done" in output
    assert output.count('{"cursor": ') == 5 + 3  # all lines, then those after the second
    final = json.loads(output.splitlines()[-1])
    assert final["status"] == "completed"
    assert final["counts"]["succeeded"] == 5


def test_readme_batch_commands_list_retry_cancel(live_server: LiveServer, httpx_mock: HTTPXMock) -> None:
    *_, list_block, retry_cancel_block = readme_batch_commands()
    llm_answers_after(httpx_mock, 0.5)  # slow enough that the cancel comes while articles are pending

    retried, cancelled = json_documents(run(retry_cancel_block, live_server))
    assert retried["requeued"] == 0
    assert cancelled["status"] == "cancelled"
    assert cancelled["counts"]["cancelled"] >= 3

    [page] = json_documents(run(list_block, live_server))
    assert [batch["id"] for batch in page["batches"]] == [cancelled["id"]]
    assert page["next_cursor"] is None
