"""Read-only connections to the store's file: reads see only what is committed.

The store's writer keeps a batch of transactions open until their shared commit (group commit,
``db``); a read through that same connection could see the batch's rows before the commit and,
had it failed, rows that never existed. Each read here is a transaction of its own on a
connection of its own: in WAL mode, a snapshot of the last commit, which never waits for the
writer either.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class Readers:
    """Read-only connections to the database file, one per reader at a time, kept for reuse.

    In WAL mode a reader's transaction is a snapshot of the last commit: it never sees the
    writer's batch before it is committed, and never waits for the writer.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._opened: list[sqlite3.Connection] = []

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA query_only = ON")  # a write through a reader is a bug: refuse it
        db.execute("PRAGMA busy_timeout = 5000")
        with self._lock:
            self._opened.append(db)
        return db

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one read transaction (one snapshot), for the block's duration."""
        with self._lock:
            db = self._idle.pop() if self._idle else None
        if db is None:
            db = self._connect()
        try:
            db.execute("BEGIN")
            try:
                yield db
            finally:
                db.execute("COMMIT")  # ends the snapshot (a reader has nothing to commit)
        finally:
            with self._lock:
                self._idle.append(db)

    def close(self) -> None:
        with self._lock:
            for db in self._opened:
                db.close()
            self._opened.clear()
            self._idle.clear()
