"""The README's `factline` commands, verbatim, against a real server (the LLM replayed from recordings).

They run in a scratch directory that links the repository's `fixtures/` and `.venv/`, so the results
file they write lands there, not in the work tree.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pytest_httpx import HTTPXMock

from factline.settings import Settings
from tests.conftest import RECORDINGS, ROOT, LiveServer, load_recording, samples_settings
from tests.e2e.test_live_server import README_PORT, readme_service_blocks

pytestmark = [pytest.mark.e2e, pytest.mark.skipif(shutil.which("jq") is None, reason="needs jq")]


@pytest.fixture
def settings() -> Settings:
    """The calls the sample recordings were made with."""
    return samples_settings()


def readme_cli_blocks() -> list[str]:
    return [block for block in readme_service_blocks() if re.search(r"factline (extract|batch)", block)]


def run(block: str, server: LiveServer, cwd: Path) -> str:
    command = block.replace(README_PORT, f"127.0.0.1:{server.port}")
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_readme_cli_commands_work_verbatim(
    live_server: LiveServer, httpx_mock: HTTPXMock, tmp_path: Path
) -> None:
    extract_block, batch_block = readme_cli_blocks()
    for name in ("fixtures", ".venv"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    for path in RECORDINGS:  # in the batch, article 004 comes from the cache `extract` filled
        load_recording(path).replay(httpx_mock)

    quotes = [line for line in run(extract_block, live_server, tmp_path).splitlines() if line]
    assert quotes
    assert all(line.startswith('{"text":') and '"speaker_id":' in line for line in quotes)

    rows = [line.split("\t") for line in run(batch_block, live_server, tmp_path).splitlines()]
    assert sorted(row[0] for row in rows) == sorted(path.stem + ".txt" for path in RECORDINGS)
    assert {row[1] for row in rows} == {"succeeded"}
    assert (tmp_path / "results.ndjson").exists()
