"""Debian packages the tests need (chromium, node), installed with apt-get when missing.

`make test` sets a switch per tool (FACTLINE_BROWSER_TESTS, FACTLINE_NODE_TESTS): then a machine
where the tool cannot be had fails its tests; without the switch and without the tool they skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest


def apt_get_install(*packages: str) -> None:
    """Install Debian packages as root; raises RuntimeError with apt-get's message when it fails."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError("installing needs root and apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"`{' '.join(command)}` failed: {done.stderr.strip()[-2000:]}")


def unavailable(switch: str, reason: str) -> None:
    if os.environ.get(switch):
        pytest.fail(f"{reason} ({switch} is set, so this test must run)", pytrace=False)
    pytest.skip(f"{reason} (set {switch}=1 to install it and run this test)")


def ensure_command(command: str, packages: tuple[str, ...], switch: str) -> str:
    """The command's path, installing its Debian packages first when the switch allows it."""
    found = shutil.which(command)
    if found is None:
        if not os.environ.get(switch):
            unavailable(switch, f"`{command}` is not installed")
        try:
            apt_get_install(*packages)
        except (OSError, RuntimeError, subprocess.TimeoutExpired) as error:
            unavailable(switch, f"installing {' '.join(packages)} failed: {error}")
        found = shutil.which(command)
        if found is None:
            unavailable(switch, f"`{command}` is still missing after installing {' '.join(packages)}")
    assert found is not None
    return found
