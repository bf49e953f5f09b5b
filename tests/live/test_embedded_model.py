"""The embedded model end to end: `factline serve` starts llama-server, the API extracts, grounding holds.

Runs with the small SmolLM2 model (fast; its content is invented, which grounding must then drop).
`make test` sets the model up and sets FACTLINE_LIVE_TESTS=1, so there it runs or fails, never skips.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from factline.local_llm import SMOLLM2_135M, LocalSetup, free_port
from factline.settings import Settings
from tests.conftest import ARTICLES, ROOT

pytestmark = pytest.mark.live

LIVE = os.environ.get("FACTLINE_LIVE_TESTS") == "1"


@pytest.fixture(scope="module")
def embedded_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not LIVE:
        pytest.skip("set FACTLINE_LIVE_TESTS=1 (as `make test` does) to run the embedded model")
    home = Settings(_env_file=None).local_home
    assert LocalSetup(home).is_ready(SMOLLM2_135M), (
        "run `factline setup-local --model smollm2-135m-instruct-q4_1`"
    )
    port = free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("FACTLINE_")}
    env |= {
        "FACTLINE_PORT": str(port),
        "FACTLINE_LOCAL_MODEL": SMOLLM2_135M.name,
        "FACTLINE_LOCAL_HOME": str(home),
        # A database of its own: in the checkout's default file, a second run was a cache hit.
        "FACTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('embedded') / 'factline.db'}",
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "factline"), "serve"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{base}/ready", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        else:
            output = process.stdout.read() if process.poll() is not None and process.stdout else ""
            pytest.fail(f"the service with the embedded model did not become ready: {output}")
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def test_ready_reports_the_embedded_model(embedded_service: str) -> None:
    ready = httpx.get(f"{embedded_service}/ready", timeout=10).json()
    assert ready["status"] == "ready"
    assert ready["llm"]["model"] == SMOLLM2_135M.name


def test_extraction_through_the_embedded_model_is_grounded(embedded_service: str) -> None:
    article = (ARTICLES / "003_e66833ffe3436db9.txt").read_text("utf-8")
    response = httpx.post(
        f"{embedded_service}/v1/extractions",
        # Two types keep the tiny model's output (it loops until the list limits stop it) to about a minute.
        json={"text": article, "published_at": "2025-02-13", "types": ["quote", "event"]},
        timeout=600,
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["model"] == SMOLLM2_135M.name
    assert result["usage"]["llm_calls"] >= 1
    assert result["usage"]["completion_tokens"] > 0
    spans = [m for a in result["actors"] for m in a["mentions"]]
    spans += [
        s
        for kind in ("quotes", "events", "positions", "proposals")
        for i in result[kind]
        for s in i["evidence"]
    ]
    for span in spans:
        assert article[span["start"] : span["end"]] == span["text"]
    for quote in result["quotes"]:
        assert quote["text"] in article
