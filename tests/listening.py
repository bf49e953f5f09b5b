"""Which processes hold which TCP sockets, read from /proc: a server's processes, each listening."""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

LISTEN, ESTABLISHED = "0A", "01"


def sockets_by_pid(pids: list[int], port: int, state: str) -> dict[int, int]:
    """How many TCP sockets on local `port` in `state` each process holds, read from /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == state:
                inodes.add(fields[9])
    return {pid: sum(inode in inodes for inode in socket_inodes(pid)) for pid in pids}


def socket_inodes(pid: int) -> list[str]:
    """Inodes of the process's open sockets; none if it is gone. A starting process opens and closes
    files while they are listed: one that went in between is skipped."""
    found = []
    with contextlib.suppress(FileNotFoundError):
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(FileNotFoundError):
                found.append(os.readlink(fd).removeprefix("socket:[").removesuffix("]"))
    return found


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def listening(supervisor: int, port: int, count: int, timeout: float = 60) -> dict[int, int]:
    """Pid of each HTTP process the supervisor runs on `port` (one listening socket each), once all
    `count` listen."""
    deadline = time.monotonic() + timeout
    while True:
        # Beside them, the supervisor has multiprocessing's resource tracker, listening nowhere.
        found = sockets_by_pid(children(supervisor), port, LISTEN)
        held = {pid: sockets for pid, sockets in found.items() if sockets}
        if len(held) == count and all(sockets == 1 for sockets in held.values()):
            return held
        if time.monotonic() > deadline:
            raise TimeoutError(f"{count} processes should listen on {port}: {held}")
        time.sleep(0.1)
