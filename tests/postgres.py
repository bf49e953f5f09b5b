"""A real PostgreSQL server for the tests: Debian's binaries, a throwaway cluster on a loopback port.

The cluster lives in a temporary directory for the test session. PostgreSQL refuses to run as root,
so as root the cluster belongs to the `postgres` user and its commands run through `runuser`. When
the binaries are missing they are installed with apt-get. `make test` sets FACTLINE_POSTGRES_TESTS=1:
then a machine where PostgreSQL cannot be had fails the tests; without it they are skipped.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from factline.local_llm import free_port
from tests.system_tools import apt_get_install

REQUIRED = "FACTLINE_POSTGRES_TESTS"


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRED):
        pytest.fail(f"PostgreSQL is required ({REQUIRED} is set) but {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL: {reason} (set {REQUIRED}=1 to install it and run these tests)")


def _install() -> Path | None:
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return None
    apt_get_install("postgresql")
    return _binaries()


def _as_owner(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str]) -> str:
    done = subprocess.run(_as_owner(command), capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)}: {done.stdout}{done.stderr}")
    return done.stdout


class PostgresServer:
    def __init__(self, bin_dir: Path, port: int) -> None:
        self.bin_dir = bin_dir
        self.port = port

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def query(self, database: str, sql: str) -> str:
        """What psql prints for `sql`, unaligned and without headers (`database`: a name or a URL)."""
        name = database.rsplit("/", 1)[-1]
        psql = [str(self.bin_dir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        return _run([*psql, "-d", name, "-q", "-A", "-t", "-c", sql]).strip()

    def create_database(self) -> str:
        """A new, empty database (tests must not see each other's batches or cached extractions)."""
        name = f"factline_{uuid.uuid4().hex[:12]}"
        self.query("postgres", f"CREATE DATABASE {name}")
        return self.url(name)


@contextmanager
def running_postgres(bin_dir: Path) -> Iterator[PostgresServer]:
    """A throwaway cluster on a free loopback port, removed at the end (also used by `make bench`)."""
    home = Path(tempfile.mkdtemp(prefix="factline-pg-"))
    data = home / "data"
    if os.geteuid() == 0:
        shutil.chown(home, "postgres", "postgres")
    port = free_port()
    _run(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]
    )
    options = (
        f"-h 127.0.0.1 -p {port} -k {home} -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=200"
    )
    pg_ctl = str(bin_dir / "pg_ctl")
    _run([pg_ctl, "-D", str(data), "-l", str(home / "server.log"), "-o", options, "-w", "start"])
    try:
        yield PostgresServer(bin_dir, port)
    finally:
        _run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(home, ignore_errors=True)


def installed_binaries() -> Path | None:
    """PostgreSQL's binaries, installed with apt-get if missing (as root); None if that cannot be."""
    return _binaries() or _install()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = _binaries()
    if bin_dir is None:
        if not os.environ.get(REQUIRED):
            _unavailable("its binaries are not in /usr/lib/postgresql/*/bin")
        try:
            bin_dir = _install()
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as error:
            _unavailable(f"installing it failed: {error}")
        if bin_dir is None:
            _unavailable("its binaries are missing and cannot be installed (needs root and apt-get)")
    assert bin_dir is not None
    with running_postgres(bin_dir) as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """`FACTLINE_DATABASE_URL` of a fresh database on the session's PostgreSQL server."""
    return postgres_server.create_database()
