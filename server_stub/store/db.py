"""The vendor's records in one SQLite file: devices, verdicts, nonces, holds and the audit log.

One writing connection guarded by a lock: uvicorn runs sync endpoints in a thread pool, and
SQLite serialises writers anyway, so a single connection costs nothing and keeps transactions
simple. Writes happen in :meth:`Store.transaction`, which hands out a :class:`Tx`: a decision
reads the device's memory and writes its answer in the same transaction, so two check-ins of one
device cannot interleave.

**Group commit.** Each transaction runs in a SAVEPOINT of a SQLite transaction that it may share
with the transactions queued behind it: the last of a burst (the one that finds nobody waiting)
commits for all of them, with one fsync. No ``transaction()`` block returns before the commit
that holds it is on disk, so a verdict is never sent before it is durable, exactly as with one
commit each; a transaction that fails rolls back its own savepoint only. Under load this took
the fsync out of every request's turn at the lock (docs/decisions/group-commit.md). Devices'
contacts come from one thread, the store's lane (:mod:`.lane`): it runs every contact queued in
``deferred_commits`` and commits them together (docs/decisions/contacts-in-one-lane.md).

**Readers see only what is committed.** Reads (the admin API's views, the audit log, the tests'
row counts; :mod:`.queries`) go through read-only connections of their own (:class:`Readers`),
each read one snapshot of what was committed. They used to share the writing connection, so a
read could show the rows of a batch whose commit had not happened yet, and, if that commit then
failed, rows that never existed. A read that must see its own transaction's writes is made
inside it (``Tx``).

**Several processes** may share the file (the fleet's two-process server): each keeps its own
group commit, and a commit's turn between processes is a ``flock`` (``store_lock``).

The check that refuses a replay is ``Tx.reserve_nonce``, the first statement of a contact's
transaction.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from phone_sim.protocol.files import is_throwaway
from server_stub.errors import StoreError
from server_stub.store import template
from server_stub.store.checkpoint import Checkpointer
from server_stub.store.lane import ContactLane
from server_stub.store.lock import ProcessWriteLock
from server_stub.store.queries import CommittedReads, VerdictRow
from server_stub.store.readers import Readers
from server_stub.store.schema import MIGRATIONS, SCHEMA_VERSION, TABLES
from server_stub.store.tx import (
    AuditRecord,
    AuditRow,
    DeliveryRow,
    DeviceRow,
    PendingHold,
    Tx,
)

#: most transactions one commit may carry
MAX_BATCH = 64
#: the largest integer SQLite stores (signed 64-bit): the bound of every integer the API takes
MAX_INTEGER = 2**63 - 1
#: the writing connection's page cache, in KiB
CACHE_KIB = 64 * 1024

__all__ = [
    "MAX_INTEGER",
    "SCHEMA_VERSION",
    "TABLES",
    "AuditRecord",
    "AuditRow",
    "DeliveryRow",
    "DeviceRow",
    "PendingHold",
    "Store",
    "Tx",
    "VerdictRow",
]


class _Batch:
    """Transactions sharing one SQLite commit."""

    def __init__(self) -> None:
        self.committed = threading.Event()
        self.error: BaseException | None = None


class Store(CommittedReads):
    """The server's database. Thread-safe; every write is one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queued = 0  # threads waiting to start a transaction
        self._local = threading.local()  # the batches a lane's transactions joined
        self._lane: ContactLane | None = None
        self._lane_lock = threading.Lock()
        self._lane_closed = False  # closed with the store: no new lane starts on it
        self._batch: _Batch | None = None
        self._batch_size = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._process_lock = ProcessWriteLock(path)
        except OSError as exc:
            raise StoreError(f"{path}: cannot open the database's lock file: {exc}") from exc
        # A new file starts as the empty database at the schema's version, made once per
        # process (docs/decisions/new-stores-from-a-template.md): _migrate finds it current.
        #: this store made its file (empty) when it opened
        self.created = template.create(path)
        try:
            # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE, which
            # takes the write lock up front instead of failing half-way on an upgrade.
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            # A throwaway directory's store (a test's world) sets itself up without fsyncs:
            # the switch to WAL and the schema (docs/decisions/throwaway-worlds-skip-fsync.md).
            self._throwaway = is_throwaway(path)
            if self._throwaway:
                self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA foreign_keys = ON")
            # Another process may hold the write lock for a moment.
            self._db.execute("PRAGMA busy_timeout = 5000")
            # The default 2 MiB page cache holds little of a million devices' indexes; every
            # contact then re-reads their pages from the OS (docs/decisions/sqlite-page-cache-64-mib.md).
            self._db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            self._migrate()
            # FULL, not WAL's usual NORMAL: a verdict the phone already holds must survive a
            # power cut, or the server could reissue its sequence number or forget its nonce
            # and accept a replay. Contacts are rare, so the extra fsync is cheap. (In a
            # throwaway directory too: contacts commit as they do everywhere.)
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA wal_autocheckpoint = 0")  # the checkpointer's job
            self._checkpointer = Checkpointer(path)
            self._readers = Readers(path)
        except sqlite3.Error as exc:
            self._process_lock.close()
            raise StoreError(f"{path}: cannot open the vendor database: {exc}") from exc

    def _migrate(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version == SCHEMA_VERSION:
            return
        if not 0 <= version < SCHEMA_VERSION:
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this server "
                f"understands ({SCHEMA_VERSION})"
            )
        with self._lock, self._begin() as db:
            for step in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[step](db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lane_lock:
            lane, self._lane = self._lane, None
            self._lane_closed = True
        if lane is not None:
            lane.close()
        self._checkpointer.close()
        self._readers.close()
        with self._lock:
            if self._batch is not None:  # left open for a transaction that will now fail
                self._settle(self._batch, now=True)
            if self._throwaway:
                # The last connection's closing checkpoint need not reach the disk either.
                with suppress(sqlite3.Error):
                    self._db.execute("PRAGMA synchronous = OFF")
            self._db.close()
        self._process_lock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _open_batch(self) -> None:
        """BEGIN IMMEDIATE, first taking the write turn among processes (lock held)."""
        self._process_lock.acquire()
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._process_lock.release()
            raise

    @contextmanager
    def _begin(self) -> Iterator[sqlite3.Connection]:
        self._open_batch()
        try:
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        finally:
            self._process_lock.release()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One atomic unit of reads and writes; an exception inside rolls all of it back.

        Returns once the unit is committed to disk (see group commit, above).

        Raises:
            StoreError: the commit that carried this transaction failed.
        """
        with self._queue_lock:
            self._queued += 1
        try:
            self._lock.acquire()
        finally:
            with self._queue_lock:
                self._queued -= 1
        try:
            if self._batch is None:
                self._open_batch()
                self._batch, self._batch_size = _Batch(), 0
            batch = self._batch
            self._db.execute("SAVEPOINT tx")
            try:
                yield Tx(self._db)
                self._db.execute("RELEASE tx")
                self._batch_size += 1
            except BaseException:
                try:
                    self._db.execute("ROLLBACK TO tx")
                    self._db.execute("RELEASE tx")
                except BaseException as undo:
                    # Not undone: its statements may be in the batch, which must not commit.
                    batch.error = undo
                raise
            finally:
                self._settle(batch)
        finally:
            self._lock.release()
        joined: list[_Batch] | None = getattr(self._local, "joined", None)
        if joined is not None:  # in deferred_commits: its end waits for the commit
            joined.append(batch)
            return
        batch.committed.wait()
        if batch.error is not None:
            raise StoreError(f"{self.path}: the commit failed: {batch.error}") from batch.error

    @contextmanager
    def deferred_commits(self) -> Iterator[list[_Batch]]:
        """This thread's transactions in the block return before their commit (the lane's).

        Each appends the batch it joined to the list yielded; nobody commits while the block is
        open (it counts as a transaction still to come), and its end commits and waits for every
        batch in the list: the caller then reads each one's ``error``.
        """
        joined: list[_Batch] = []
        with self._queue_lock:
            self._queued += 1
        self._local.joined = joined
        try:
            yield joined
        finally:
            self._local.joined = None
            with self._queue_lock:
                self._queued -= 1
            with self._lock:
                if self._batch is not None:
                    self._settle(self._batch, now=True)
            for batch in joined:
                batch.committed.wait()

    @property
    def lane(self) -> ContactLane:
        """The thread that runs this store's contacts (made at first use; ``close`` ends it)."""
        with self._lane_lock:
            if self._lane_closed:
                raise StoreError(f"{self.path}: the store is closed")
            if self._lane is None:
                self._lane = ContactLane(self)
            return self._lane

    def _settle(self, batch: _Batch, *, now: bool = False) -> None:
        """Commit ``batch`` unless a transaction queued behind it will (lock held)."""
        with self._queue_lock:
            queued = self._queued
        # A batch holding a transaction that could not be undone (``error`` set) ends now.
        if queued and self._batch_size < MAX_BATCH and not now and batch.error is None:
            return  # the next one in will carry the batch on, and commit it in the end
        self._batch = None
        try:
            if batch.error is not None:  # rolled back whole, never committed
                raise batch.error
            self._db.execute("COMMIT")
        except BaseException as exc:
            batch.error = exc
            with suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
        else:
            self._checkpointer.committed()
        finally:
            self._process_lock.release()
            batch.committed.set()

    def pragma(self, name: str) -> Any:
        """Read a PRAGMA (``journal_mode``, ``synchronous``...) of the writing connection."""
        if not name.isidentifier():
            raise ValueError(f"not a pragma name: {name!r}")
        with self._lock:
            return self._db.execute(f"PRAGMA {name}").fetchone()[0]
