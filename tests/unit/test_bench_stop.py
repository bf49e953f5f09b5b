"""A benchmarked process that does not stop on SIGTERM fails the bench with what it was doing."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

import bench.run
from factline.local_llm import free_port

# Serves its directory (so /health answers 200) and ignores SIGTERM.
DEAF_SERVER = """
import functools, http.server, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2])
server = http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), handler)
def stuck_in_shutdown():
    server.serve_forever()
stuck_in_shutdown()
"""


def test_a_process_deaf_to_sigterm_fails_with_its_stacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "health").write_text("ok")
    port = free_port()
    monkeypatch.setattr(bench.run, "STOP_SECONDS", 1)
    command = [sys.executable, "-c", DEAF_SERVER, str(port), str(tmp_path)]
    with (
        pytest.raises(RuntimeError, match=r"did not stop within 1 s of SIGTERM") as failure,
        bench.run.process(command, f"http://127.0.0.1:{port}/health") as proc,
    ):
        assert proc.poll() is None
    assert "stuck_in_shutdown" in str(failure.value)
    assert proc.poll() is not None  # killed, not left behind
    log = re.search(r"its log is (\S+),", str(failure.value))
    assert log is not None
    assert "GET /health" in Path(log[1]).read_text()  # kept for whoever reads the failure
    Path(log[1]).unlink()
