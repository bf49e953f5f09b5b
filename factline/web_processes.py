"""`factline serve` as one or several HTTP processes.

Several processes each bind a listening socket of their own with SO_REUSEPORT, so the kernel hands
each new connection to one of them by its addresses. uvicorn's `--workers` share one socket instead:
whichever process wakes first accepts most of a burst of connections, and keep-alive clients stay
where they landed (measured: 26-27 of a burst of 32 on one of two processes in 2 tries of 5). A
supervisor starts them, restarts one that dies, and passes SIGTERM and SIGINT on, so each finishes
its requests and hands its batch items back as a single process does."""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from multiprocessing.process import BaseProcess
from types import FrameType

from factline.logs import configure_logging
from factline.settings import Settings, get_settings

logger = logging.getLogger("factline.serve")

STARTUP_FAILURE = 3  # uvicorn's exit status when the app never started: it would fail again
_POLL_SECONDS = 0.2


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket of this process's own on host:port, beside its siblings' (SO_REUSEPORT)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


def serve_one(settings: Settings, sock: socket.socket | None = None) -> bool:
    """One HTTP process until it is stopped: on `sock` when given, else uvicorn binds
    FACTLINE_HOST:FACTLINE_PORT itself. False when it never started (uvicorn logged why)."""
    import uvicorn

    configure_logging(settings.log_level)
    config = uvicorn.Config(
        "api.app:app",
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        log_config=None,
        access_log=False,  # the app writes its access lines once each response has gone (api.request_id)
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,  # in-flight requests finish first
    )
    server = uvicorn.Server(config)
    server.run(sockets=[sock] if sock is not None else None)
    return server.started


def _process_main(supervisor: int) -> None:
    _stop_with(supervisor)
    settings = get_settings()
    try:
        sock = listening_socket(settings.host, settings.port)
    except OSError as error:
        configure_logging(settings.log_level)
        logger.error("cannot listen on %s:%d: %s", settings.host, settings.port, error)
        sys.exit(STARTUP_FAILURE)
    if not serve_one(settings, sock):
        sys.exit(STARTUP_FAILURE)


def _stop_with(supervisor: int) -> None:
    """Out of the terminal's process group (Ctrl-C reaches the supervisor, which passes it on once),
    and sent SIGTERM if the supervisor dies, so no process is left holding the port."""
    os.setpgrp()
    if sys.platform == "linux":
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() != supervisor:  # it died before the line above
        os.kill(os.getpid(), signal.SIGTERM)


class WebProcesses:
    """Keeps `count` HTTP processes running until SIGTERM or SIGINT, then waits for them to finish."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.count = settings.web_processes
        self._context = multiprocessing.get_context("spawn")  # a fresh interpreter: no state inherited
        self._processes: dict[int, BaseProcess] = {}
        self._stopping = False

    def run(self) -> int:
        configure_logging(self.settings.log_level)
        metrics_dir = self._metrics_dir()
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for slot in range(self.count):
                self._start(slot)
            logger.info(
                "serving on %s:%d with %d processes", self.settings.host, self.settings.port, self.count
            )
            status = self._watch()
            self._wait_for_all()
            return status
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            if metrics_dir is not None:
                shutil.rmtree(metrics_dir, ignore_errors=True)

    def _metrics_dir(self) -> str | None:
        """Counters of all processes add up in one directory; a fresh one unless the operator set it."""
        if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
            os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
            return None
        made = tempfile.mkdtemp(prefix="factline-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made  # inherited by the processes started after this
        return made

    def _start(self, slot: int) -> None:
        process = self._context.Process(
            target=_process_main, args=(os.getpid(),), name=f"factline-web-{slot}"
        )
        process.start()
        self._processes[slot] = process

    def _watch(self) -> int:
        """Restart a process that dies; 1 when one could not start (another would fail the same way)."""
        while not self._stopping:
            time.sleep(_POLL_SECONDS)
            for slot, process in list(self._processes.items()):
                if process.is_alive() or self._stopping:
                    continue
                _forget(process)
                if process.exitcode == STARTUP_FAILURE:
                    logger.error("HTTP process %s could not start; stopping", process.pid)
                    self._stop(signal.SIGTERM, None)
                    return 1
                logger.warning(
                    "HTTP process %s exited with %s; starting another", process.pid, process.exitcode
                )
                self._start(slot)
        return 0

    def _stop(self, signum: int, _: FrameType | None) -> None:
        self._stopping = True
        for process in self._processes.values():
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)  # each one's own graceful shutdown

    def _wait_for_all(self) -> None:
        deadline = time.monotonic() + self.settings.shutdown_grace_seconds + 10
        for process in self._processes.values():
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                logger.error("HTTP process %s did not stop in time; killing it", process.pid)
                process.kill()
                process.join()


def _forget(process: BaseProcess) -> None:
    """A dead process's gauges no longer count in /metrics (its counters still do)."""
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ and process.pid is not None:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(process.pid)  # type: ignore[no-untyped-call]
