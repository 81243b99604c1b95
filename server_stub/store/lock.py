"""Who writes now, between server processes sharing one database.

SQLite already serialises writers across processes, but a writer that finds the database locked
sleeps in SQLite's busy handler (1, 2, 5, 10... ms) and tries again. With several server
processes committing hundreds of times a second those sleeps became the slowest requests. A
blocking ``flock`` on a file beside the database wakes the next writer the moment the lock is
released. One process alone takes it without ever waiting (a system call each way). What a
second process costs per activation, the store's part and the rest, is measured in
docs/decisions/second-server-process-cpu.md.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class ProcessWriteLock:
    def __init__(self, db_path: Path) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)

    def acquire(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # blocks without the GIL

    def release(self) -> None:
        fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1  # a later acquire fails (EBADF), as the closed database would
