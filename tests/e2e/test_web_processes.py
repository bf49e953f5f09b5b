"""`factline serve` with FACTLINE_WEB_PROCESSES=2 on PostgreSQL, as real processes: each has a
listening socket of its own, bursts of keep-alive connections are spread over both, a process killed
with SIGKILL is replaced, and SIGTERM stops them all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from factline.local_llm import free_port
from tests.e2e.test_batches_crash import FACTLINE
from tests.listening import ESTABLISHED, listening, sockets_by_pid

pytestmark = pytest.mark.e2e


@contextmanager
def two_processes(
    postgres_url: str, tmp_path: Path, port: int | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = port or free_port()
    env = {name: value for name, value in os.environ.items() if not name.startswith("FACTLINE_")}
    env |= {
        "FACTLINE_PORT": str(port),
        "FACTLINE_DATABASE_URL": postgres_url,
        "FACTLINE_LLM_BASE_URL": "http://127.0.0.1:9/v1",  # never called here
        "FACTLINE_WEB_PROCESSES": "2",
        "FACTLINE_SHUTDOWN_GRACE_SECONDS": "5",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with (tmp_path / "serve.log").open("wb") as log:
        supervisor = subprocess.Popen([str(FACTLINE), "serve"], env=env, stdout=log, stderr=log)
    try:
        yield supervisor, port
    finally:
        # SIGTERM, as an operator stops it: SIGKILL would leave its metrics directory behind in /tmp.
        supervisor.terminate()
        try:
            supervisor.wait(timeout=30)
        except subprocess.TimeoutExpired:
            supervisor.kill()
            supervisor.wait()


def test_bursts_of_keep_alive_connections_are_spread_over_both_processes(
    postgres_url: str, tmp_path: Path
) -> None:
    with two_processes(postgres_url, tmp_path) as (supervisor, port):
        pids = list(listening(supervisor.pid, port, 2))
        connections: list[socket.socket] = []
        try:
            for _ in range(4):  # as a client's pool opens them: a burst at once, kept open
                burst = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
                for connection in burst:
                    connection.sendall(b"GET /health HTTP/1.1\r\nHost: factline\r\n\r\n")
                assert all(connection.recv(64).startswith(b"HTTP/1.1 200") for connection in burst)
                connections += burst
            held = sockets_by_pid(pids, port, ESTABLISHED)
            assert sum(held.values()) == 128
            # The kernel spreads them by address: fewer than 40 of 128 on one, p < 1e-4. Sharing one
            # socket (uvicorn --workers), the process that woke first took 26-27 of a burst of 32 in
            # 2 of 5 tries.
            assert min(held.values()) >= 40, held
        finally:
            for connection in connections:
                connection.close()


def test_a_killed_process_is_replaced_and_sigterm_stops_them_all(postgres_url: str, tmp_path: Path) -> None:
    with two_processes(postgres_url, tmp_path) as (supervisor, port):
        first = list(listening(supervisor.pid, port, 2))
        os.kill(first[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while first[0] in (now := list(listening(supervisor.pid, port, 2))):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert first[1] in now  # the other one served on
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=30) == 0
        assert not any(Path(f"/proc/{pid}").exists() for pid in now)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=1)
    assert "starting another" in (tmp_path / "serve.log").read_text()


def test_a_port_another_program_holds_stops_the_service_with_status_1(
    postgres_url: str, tmp_path: Path
) -> None:
    port = free_port()
    with (
        socket.create_server(("127.0.0.1", port)),
        two_processes(postgres_url, tmp_path, port) as (supervisor, _),
    ):
        assert supervisor.wait(timeout=60) == 1
    log = (tmp_path / "serve.log").read_text()
    assert f"cannot listen on 127.0.0.1:{port}" in log
    assert "could not start; stopping" in log
