"""SQLite's WAL checkpoints on a thread of their own, not in the event loop's commits.

In WAL mode a commit appends its pages to the log, and the commit that takes the log past 1,000
pages copies it into the database file and syncs both: SQLite's automatic checkpoint. factline's
writes run on the event loop's thread (`factline.sqlite_connections`), so under load (a 16 KB cache
row per extraction: a checkpoint about every second) the loop stopped for those copies and syncs;
with no checkpoints at all one process served 9 % more extractions a second. The service's
connections turn the automatic checkpoint off (`create_engine(checkpoints_elsewhere=True)`) and a
thread checkpoints instead, every second, in PASSIVE mode: it never waits for a writer nor makes one
wait, and the sqlite3 module releases the GIL while it copies and syncs. The copying is still CPU
(paired, +2 % throughput, not 9 %); what leaves the loop is every wait for the disk.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from factline.database import sqlite_file

logger = logging.getLogger(__name__)

INTERVAL_SECONDS = 1.0


@contextmanager
def checkpointing(url: str, interval_seconds: float = INTERVAL_SECONDS) -> Iterator[bool]:
    """Checkpoints the SQLite file `url` names until the block ends; yields whether it does (not for
    other databases). The file must exist, in WAL mode: start it once the schema is in place."""
    path = sqlite_file(url)
    if path is None:
        yield False
        return
    stop = threading.Event()
    thread = threading.Thread(
        target=_checkpoint_until, args=(path, stop, interval_seconds), name="factline-wal", daemon=True
    )
    thread.start()
    try:
        yield True
    finally:
        stop.set()
        thread.join()


def _checkpoint_until(path: str, stop: threading.Event, interval_seconds: float) -> None:
    try:
        connection = sqlite3.connect(path, timeout=5, isolation_level=None)
    except sqlite3.Error as error:
        logger.error("cannot checkpoint %s (%s): its WAL grows until the service restarts", path, error)
        return
    try:
        while not stop.wait(interval_seconds):
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as error:  # the next turn tries again; the log waits meanwhile
                logger.warning("WAL checkpoint of %s failed: %s", path, error)
    finally:
        connection.close()
