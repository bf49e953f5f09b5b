"""TypeScript types generated from openapi.json by openapi-typescript type-check the small client in
clients/typescript/, and the compiled client works against a real server.

node and npm are Debian's (installed with apt-get when missing, see tests/system_tools.py); the npm
packages are the versions pinned in clients/typescript/package-lock.json, installed once into
build/typescript-client/ and reused while the lock file is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_httpx import HTTPXMock

from tests.batch_support import article_text, llm_answers_every_article, ndjson
from tests.conftest import ROOT, LiveServer
from tests.system_tools import ensure_command

pytestmark = pytest.mark.e2e

CLIENT = ROOT / "clients" / "typescript"
CACHE = ROOT / "build" / "typescript-client"
SWITCH = "FACTLINE_NODE_TESTS"
OFFLINE_SIGNS = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET", "ENETUNREACH")


@dataclass(frozen=True)
class Toolchain:
    node: str
    node_modules: Path

    def run(self, project: Path, script: str, *args: str) -> subprocess.CompletedProcess[str]:
        command = [self.node, str(project / "node_modules" / script), *args]
        return subprocess.run(command, cwd=project, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def toolchain() -> Toolchain:
    node = ensure_command("node", ("nodejs", "npm"), SWITCH)
    npm = ensure_command("npm", ("npm",), SWITCH)
    lock = (CLIENT / "package-lock.json").read_bytes()
    stamp = CACHE / "installed.sha256"
    if not stamp.exists() or stamp.read_text() != hashlib.sha256(lock).hexdigest():
        shutil.rmtree(CACHE, ignore_errors=True)
        CACHE.mkdir(parents=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(CLIENT / name, CACHE / name)
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=CACHE, capture_output=True, text=True, timeout=600,
            check=False,
        )  # fmt: skip
        if done.returncode != 0:
            if any(sign in done.stderr for sign in OFFLINE_SIGNS):
                pytest.skip(f"the npm registry is unreachable: {done.stderr.strip()[-300:]}")
            pytest.fail(f"npm ci failed: {done.stderr.strip()[-2000:]}")
        stamp.write_text(hashlib.sha256(lock).hexdigest())
    return Toolchain(node, CACHE / "node_modules")


@pytest.fixture
def project(toolchain: Toolchain, tmp_path: Path) -> Path:
    """A copy of the client with types freshly generated from the committed openapi.json."""
    for name in ("package.json", "tsconfig.json"):
        shutil.copy(CLIENT / name, tmp_path / name)
    shutil.copytree(CLIENT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("generated"))
    (tmp_path / "node_modules").symlink_to(toolchain.node_modules, target_is_directory=True)
    generated = tmp_path / "src" / "generated" / "openapi.ts"
    done = toolchain.run(
        tmp_path, "openapi-typescript/bin/cli.js", str(ROOT / "openapi.json"), "-o", str(generated)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path


def tsc(toolchain: Toolchain, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return toolchain.run(project, "typescript/bin/tsc", "-p", ".", *args)


def test_the_client_type_checks_against_the_generated_types(toolchain: Toolchain, project: Path) -> None:
    generated = (project / "src" / "generated" / "openapi.ts").read_text("utf-8")
    for name in ("createExtraction", "createBatch", "listBatchResults", "BatchUploadForm", "ItemType"):
        assert f"{name}:" in generated, name
    done = tsc(toolchain, project, "--noEmit")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_field_the_api_does_not_have_fails_the_type_check(toolchain: Toolchain, project: Path) -> None:
    (project / "src" / "wrong.ts").write_text(
        'import { FactlineClient, type Extraction } from "./client.js";\n'
        'export const speaker = (e: Extraction): string => e.quotes[0]?.speaker ?? "";\n'
        'export const sent = new FactlineClient("http://x").createExtraction({ txt: "no such field" });\n',
        "utf-8",
    )
    done = tsc(toolchain, project, "--noEmit")
    assert done.returncode != 0
    assert "Property 'speaker' does not exist" in done.stdout
    assert "'txt' does not exist in type" in done.stdout


def test_the_compiled_client_against_a_real_server(
    toolchain: Toolchain, project: Path, live_server: LiveServer, httpx_mock: HTTPXMock
) -> None:
    llm_answers_every_article(httpx_mock)
    archive = project / "articles.ndjson"
    archive.write_bytes(ndjson([{"id": f"ts{n}", "text": article_text(n)} for n in range(3)]))
    assert tsc(toolchain, project).returncode == 0

    done = subprocess.run(
        [toolchain.node, "dist/example.js", live_server.base_url, str(archive)],
        cwd=project, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["quotes"] == ["plan number 7 must go ahead"]
    assert summary["speakers"] == ["Anna Weber"]
    assert summary["batch"] == "completed"
    assert sorted(r["article_id"] for r in summary["results"]) == ["ts0", "ts1", "ts2"]
    assert {r["status"] for r in summary["results"]} == {"succeeded"}
    assert all(r["quotes"] == 1 for r in summary["results"])
    assert summary["problemType"] == "urn:factline:problem:invalid-request"
