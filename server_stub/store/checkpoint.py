"""WAL checkpoints on a thread of their own, off the requests' path.

SQLite's automatic checkpoint runs inside whichever commit pushes the WAL past 1,000 pages: that
request then also copies those pages into the database file and fsyncs it. In a store of a
million devices the pages are spread over every index, and that request was the slow one in a
hundred (docs/decisions/wal-checkpoints-on-a-thread.md). Here the store turns automatic checkpoints off and a
daemon thread runs a PASSIVE checkpoint (which never waits for, nor blocks, readers or the
writer) every ``interval`` seconds on its own connection. Durability does not change: commits
are durable in the WAL; a checkpoint only moves them into the main file. Closing the store's
last connection checkpoints what is left, as SQLite always does.

The thread and its connection start after the store's first ``START_AFTER`` commits: a test's
world commits a handful of contacts and closes (which checkpoints them), and never needed either
(docs/decisions/checkpointer-starts-after-some-commits.md).
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import suppress
from pathlib import Path

INTERVAL = 0.5
#: commits before the thread starts: a WAL of this many commits is small (a few hundred pages)
START_AFTER = 16


class Checkpointer:
    def __init__(
        self, path: Path, *, interval: float = INTERVAL, start_after: int = START_AFTER
    ) -> None:
        self.path = path
        self.interval = interval
        self._to_start = start_after
        self._db: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        if start_after <= 0:
            self._start()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def committed(self) -> None:
        """One more commit of the store (its writer's lock held): the thread starts at the
        ``start_after``-th."""
        if self._to_start > 0:
            self._to_start -= 1
            if self._to_start == 0:
                # One that cannot open its connection leaves the WAL to the store's close, which
                # checkpoints it; the commit that got here has happened, and stands.
                with suppress(sqlite3.Error):
                    self._start()

    def _start(self) -> None:
        with self._lock:
            if self._stop.is_set() or self._thread is not None:
                return  # closed already (or started): nothing to checkpoint any more
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA busy_timeout = 5000")
            self._db = db
            self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        assert self._db is not None
        while not self._stop.wait(self.interval):
            # Busy or closing: the next round, or the store's close, does it.
            with suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        with self._lock:
            self._stop.set()
            thread, db = self._thread, self._db
        if thread is not None:
            thread.join()
        if db is not None:
            db.close()
