"""WAL checkpoints on a thread of their own, off the requests' path.

SQLite's automatic checkpoint runs inside whichever commit pushes the WAL past 1,000 pages: that
request then also copies those pages into the database file and fsyncs it. In a store of a
million devices the pages are spread over every index, and that request was the slow one in a
hundred (docs/decisions/wal-checkpoints-on-a-thread.md). Here the store turns automatic checkpoints off and a
daemon thread runs a PASSIVE checkpoint (which never waits for, nor blocks, readers or the
writer) every ``interval`` seconds on its own connection. Durability does not change: commits
are durable in the WAL; a checkpoint only moves them into the main file. Closing the store's
last connection checkpoints what is left, as SQLite always does.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import suppress
from pathlib import Path

INTERVAL = 0.5


class Checkpointer:
    def __init__(self, path: Path, *, interval: float = INTERVAL) -> None:
        self.interval = interval
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout = 5000")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            # Busy or closing: the next round, or the store's close, does it.
            with suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._db.close()
