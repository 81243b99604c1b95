"""A spy on a store's writing connection: counts its commits, or makes each one fail."""

from __future__ import annotations

import sqlite3
from typing import Any

from server_stub.store.db import Store


class WriterSpy:
    """The store's writing connection as SQLite sees it: counts its commits, and with ``fail``
    makes each one fail as a full or failing disk would (the store then rolls back)."""

    def __init__(self, db: sqlite3.Connection, *, fail: bool = False) -> None:
        self._db = db
        self.fail = fail
        self.commits = 0

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT":
            if self.fail:
                raise sqlite3.OperationalError("disk I/O error (injected)")
            self.commits += 1
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def spy_on_writer(store: Store, *, fail: bool = False) -> WriterSpy:
    spy = WriterSpy(store._db, fail=fail)
    store._db = spy  # type: ignore[assignment]
    return spy
