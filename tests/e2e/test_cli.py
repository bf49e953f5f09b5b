"""The installed `factline` executable as a subprocess: `extract` and `batch` against a real server,
`extract` in-process against a fake OpenAI-compatible server; messages and exit codes on failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpx import HTTPXMock

from factline.local_llm import free_port
from factline.settings import Settings
from tests.batch_support import article_text, llm_answers_every_article, ndjson
from tests.conftest import ARTICLES, RECORDINGS, LiveServer, authored, load_recording, samples_settings
from tests.fakes.fake_llm import running_fake_llm

pytestmark = pytest.mark.e2e

FACTLINE = str(Path(sys.executable).parent / "factline")


@pytest.fixture
def settings() -> Settings:
    """The calls the sample recordings were made with."""
    return samples_settings()


def factline(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FACTLINE, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env or dict(os.environ),
    )


def grounded(extraction: dict[str, Any], text: str) -> int:
    """How many spans the extraction has; each must be the text at its offsets."""
    spans = [span for quote in extraction["quotes"] for span in quote["evidence"]]
    spans += [m for actor in extraction["actors"] for m in actor["mentions"]]
    for span in spans:
        assert text[span["start"] : span["end"]] == span["text"]
    return len(spans)


def test_extract_text_and_json_files_through_a_running_service(
    live_server: LiveServer, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    recording = load_recording(RECORDINGS[4])
    recording.replay(httpx_mock)
    example = authored("readme_example")
    example.replay(httpx_mock)
    json_article = tmp_path / "example.json"
    json_article.write_text(json.dumps(example.request_json()), "utf-8")
    article = ARTICLES / "004_8dd281839903a95c.txt"

    done = factline(
        "extract",
        str(article),
        str(json_article),
        "--url",
        live_server.base_url,
        "--published-at",
        "2025-12-15",
    )

    assert done.returncode == 0, done.stderr
    first, second = map(json.loads, done.stdout.splitlines())
    assert first["article"]["id"] == article.name
    assert first["article"]["published_at"] == "2025-12-15"
    assert grounded(first, article.read_text("utf-8")) > 5
    assert [q["text"] for q in second["quotes"]] == ["do more"]


def test_extract_failures_have_messages_and_exit_codes(live_server: LiveServer, tmp_path: Path) -> None:
    empty = tmp_path / "empty.txt"
    empty.write_text("", "utf-8")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Café".encode("latin-1"))

    problem = factline("extract", str(empty), "--url", live_server.base_url)
    assert problem.returncode == 1
    assert "empty.txt: 422 invalid-request" in problem.stderr
    assert problem.stdout == ""

    bad_file = factline("extract", str(latin1), "--url", live_server.base_url)
    assert bad_file.returncode == 2
    assert "latin1.txt: not UTF-8 text" in bad_file.stderr

    missing = factline("extract", str(tmp_path / "nope.txt"), "--url", live_server.base_url)
    assert missing.returncode == 2
    assert "nope.txt: cannot read it" in missing.stderr

    unreachable = factline("extract", str(empty), "--url", f"http://127.0.0.1:{free_port()}")
    assert unreachable.returncode == 3
    assert "cannot reach the service" in unreachable.stderr

    bad_types = factline("extract", str(empty), "--types", "quote,gossip")
    assert bad_types.returncode == 2
    assert "unknown types gossip" in bad_types.stderr


def test_batch_submits_follows_and_writes_every_result(
    live_server: LiveServer, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    llm_answers_every_article(httpx_mock)
    archive = tmp_path / "articles.ndjson"
    archive.write_bytes(ndjson([{"id": f"a{n}", "text": article_text(n)} for n in range(6)]))
    results = tmp_path / "results.ndjson"

    done = factline("batch", str(archive), "--url", live_server.base_url, "-o", str(results))

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in results.read_text("utf-8").splitlines()]
    assert sorted(line["article_id"] for line in lines) == [f"a{n}" for n in range(6)]
    assert {line["status"] for line in lines} == {"succeeded"}
    assert "completed: 6 succeeded, 0 failed, 0 cancelled" in done.stderr


def test_batch_failures_have_messages_and_exit_codes(
    live_server: LiveServer, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    llm_answers_every_article(httpx_mock)
    half_bad = tmp_path / "half-bad.ndjson"
    half_bad.write_bytes(ndjson([{"id": "good", "text": article_text(1)}]) + b"not json\n")
    results = tmp_path / "results.ndjson"

    some_failed = factline(
        "batch", str(half_bad), "--url", live_server.base_url, "-o", str(results), "--quiet"
    )
    assert some_failed.returncode == 4
    assert "1 succeeded, 1 failed" in some_failed.stderr
    statuses = {json.loads(line)["status"] for line in results.read_text("utf-8").splitlines()}
    assert statuses == {"succeeded", "failed"}

    picture = tmp_path / "picture.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    unsupported = factline("batch", str(picture), "--url", live_server.base_url, "-o", str(results))
    assert unsupported.returncode == 1
    assert "415 unsupported-archive" in unsupported.stderr

    unreachable = factline(
        "batch", str(half_bad), "--url", f"http://127.0.0.1:{free_port()}", "-o", str(results)
    )
    assert unreachable.returncode == 3


def test_extract_in_process_without_a_url(tmp_path: Path) -> None:
    """No server: the app runs inside the command, with the FACTLINE_* settings `factline serve` reads."""
    article = ARTICLES / "003_e66833ffe3436db9.txt"
    with running_fake_llm() as fake:
        env = {
            **os.environ,
            "FACTLINE_LLM_BASE_URL": fake.base_url,
            "FACTLINE_LLM_MODEL": "fake",
            "FACTLINE_LOCAL_MODEL": "none",
            "FACTLINE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/factline.db",
        }
        done = factline("extract", str(article), "--indent", "2", env=env)
        assert done.returncode == 0, done.stderr
        assert fake.completions() == 1
    extraction = json.loads(done.stdout)
    assert extraction["model"] == "fake"
    assert grounded(extraction, article.read_text("utf-8")) > 0
