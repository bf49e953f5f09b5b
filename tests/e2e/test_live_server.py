"""A real uvicorn server on a loopback port, driven by curl: the README's commands, verbatim."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from pytest_httpx import HTTPXMock

from factline.settings import Settings
from tests.conftest import ROOT, LiveServer, authored, load_recording, make_settings

pytestmark = pytest.mark.e2e

CURL = shutil.which("curl")
README_PORT = "localhost:8000"


@pytest.fixture
def settings() -> Settings:
    """As `make run` extracts with the embedded model: one call per type (the recordings were made so)."""
    return make_settings(extraction_calls="per_type")


def readme_service_blocks() -> list[str]:
    """Every shell block of the README that calls the service."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text("utf-8"), flags=re.DOTALL)
    return [block.strip() for block in blocks if README_PORT in block]


def readme_curl_commands() -> list[str]:
    """The single-article examples (batches have their own test, tests/e2e/test_batches_readme.py)."""
    return [
        block for block in readme_service_blocks() if block.startswith("curl ") and "/v1/batches" not in block
    ]


def readme_batch_commands() -> list[str]:
    return [block for block in readme_service_blocks() if "/v1/batches" in block and "/v1/views" not in block]


def readme_view_commands() -> list[str]:
    return [block for block in readme_service_blocks() if "/v1/views" in block]


def run_shell(command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_readme_commands_work_verbatim_against_a_real_server(
    live_server: LiveServer, httpx_mock: HTTPXMock
) -> None:
    commands = readme_curl_commands()
    assert len(commands) == 3, commands
    health, json_example, plain_text_example = commands
    authored("readme_example").replay(httpx_mock)
    load_recording(ROOT / "fixtures" / "llm" / "004_8dd281839903a95c.json").replay(httpx_mock)

    outputs = []
    for command in (health, json_example, plain_text_example):
        result = run_shell(command.replace(README_PORT, f"127.0.0.1:{live_server.port}"))
        assert result.returncode == 0, result.stderr
        outputs.append(json.loads(result.stdout))

    assert outputs[0] == {"status": "ok"}
    example = outputs[1]
    assert [q["text"] for q in example["quotes"]] == ["do more"]
    [pistorius] = [a for a in example["actors"] if a["name"] == "Boris Pistorius"]
    assert example["quotes"][0]["speaker_id"] == pistorius["id"]
    assert example["events"][0]["date"] == "2025-12-15"
    article_004 = (ROOT / "fixtures" / "articles" / "004_8dd281839903a95c.txt").read_text("utf-8")
    assert outputs[2]["article"]["characters"] == len(article_004)
    for quote in outputs[2]["quotes"]:
        span = quote["evidence"][0]
        assert article_004[span["start"] : span["end"]] == quote["text"]


@pytest.mark.skipif(CURL is None, reason="curl is not installed")
def test_problems_reach_a_real_client_intact(live_server: LiveServer) -> None:
    url = f"{live_server.base_url}/v1/extractions"
    result = run_shell(f"curl -s -i {url} -H 'content-type: application/json' -d '{{\"text\": \"\"}}'")
    head, _, body = result.stdout.partition("\n\n")
    assert head.startswith("HTTP/1.1 422")
    assert "content-type: application/problem+json" in head.lower()
    problem = json.loads(body)
    assert problem["type"] == "urn:factline:problem:invalid-request"
    assert problem["errors"][0]["location"] == "body.text"


def test_served_spec_is_the_committed_one(live_server: LiveServer) -> None:
    import httpx

    served = httpx.get(f"{live_server.base_url}/schema/openapi.json").json()
    assert served == json.loads((ROOT / "openapi.json").read_text("utf-8"))
