"""Group commit: transactions queued behind one another share a commit, and none returns early.

Every ``transaction()`` that returned is on disk (a second connection sees it); under contention
there are fewer commits than transactions (with batching off, one each, and the test fails); a
transaction that fails inside a shared commit takes only its own writes with it; and a read
never sees a batch before its commit, nor ever, if that commit fails.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from phone_sim.protocol.errors import ReplayedNonce
from server_stub.errors import StoreError
from server_stub.store.db import AuditRecord, Store
from tests.support.store_spy import spy_on_writer

AT = 1630497600


def _committed_nonces(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT nonce FROM nonces")}


def test_concurrent_transactions_are_all_committed_before_they_return(tmp_path: Path) -> None:
    store = Store(tmp_path / "vendor.db")
    writer = spy_on_writer(store)
    seen_on_disk: list[bool] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def contact(i: int) -> None:
        start.wait()
        for j in range(20):
            nonce = f"nonce-{i:02d}-{j:02d}-aaaaaaaa"
            with store.transaction() as tx:
                tx.reserve_nonce(nonce, at=AT, expires_at=AT + 3600)
            # Returned: another connection must already see it.
            with lock:
                seen_on_disk.append(nonce in _committed_nonces(store.path))

    threads = [threading.Thread(target=contact, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert len(seen_on_disk) == 320 and all(seen_on_disk)
    assert len(_committed_nonces(tmp_path / "vendor.db")) == 320
    # Shared commits: with batching off (MAX_BATCH = 1) there would be one per transaction.
    print(f"320 transactions from 16 threads: {writer.commits} commits")
    assert writer.commits < 320 * 3 // 4, writer.commits


def test_a_read_never_sees_a_batch_whose_commit_failed(tmp_path: Path) -> None:
    """Every commit fails, so nothing is ever stored: a read that shows any row has seen a
    batch before its commit (what the admin API showed while reads shared the writer)."""
    store = Store(tmp_path / "vendor.db")
    spy_on_writer(store, fail=True)
    writing = threading.Event()
    failed: list[BaseException] = []
    seen: list[object] = []
    reads = 0
    lock = threading.Lock()

    def write(i: int) -> None:
        for j in range(40):
            try:
                with store.transaction() as tx:
                    tx.reserve_nonce(f"nonce-{i:02d}-{j:02d}-aaaaaaaa", at=AT, expires_at=AT + 60)
                    tx.append_audit(
                        AuditRecord(
                            at=AT,
                            kind="test",
                            actor="writer",
                            rule="-",
                            policy_version="v",
                            inputs={"i": i, "j": j},
                        )
                    )
            except StoreError as exc:
                with lock:
                    failed.append(exc)

    def read() -> None:
        nonlocal reads
        while writing.is_set():
            found: list[object] = [*store.audit(limit=1000)]
            with store.read() as tx:
                found += tx.devices()
            if store.counts()["nonces"] or store.nonce_seen("nonce-00-00-aaaaaaaa", now=AT):
                found.append("a nonce")
            with lock:
                reads += 1
                seen.extend(found)

    writers = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    readers = [threading.Thread(target=read) for _ in range(4)]
    writing.set()
    for t in readers + writers:
        t.start()
    for t in writers:
        t.join()
    writing.clear()
    for t in readers:
        t.join()
    store.close()
    assert len(failed) == 8 * 40  # every transaction was told its commit failed
    assert reads > 50, reads  # the readers read all along
    assert seen == [], f"{len(seen)} uncommitted rows were read, e.g. {seen[0]}"


def test_a_failure_inside_a_shared_commit_undoes_only_itself(tmp_path: Path) -> None:
    store = Store(tmp_path / "vendor.db")
    with store.transaction() as tx:
        tx.reserve_nonce("nonce-used-aaaaaaaaaa", at=AT, expires_at=AT + 3600)
    start = threading.Barrier(9)
    failures: list[BaseException] = []

    def contact(i: int) -> None:
        start.wait()
        try:
            with store.transaction() as tx:
                tx.reserve_nonce(f"nonce-{i}-bbbbbbbbbbbb", at=AT, expires_at=AT + 3600)
                if i % 3 == 0:
                    tx.reserve_nonce("nonce-used-aaaaaaaaaa", at=AT, expires_at=AT + 3600)
        except ReplayedNonce as exc:
            failures.append(exc)

    threads = [threading.Thread(target=contact, args=(i,)) for i in range(9)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    store.close()
    assert len(failures) == 3
    expected = {f"nonce-{i}-bbbbbbbbbbbb" for i in range(9) if i % 3} | {"nonce-used-aaaaaaaaaa"}
    assert _committed_nonces(tmp_path / "vendor.db") == expected


def test_an_error_in_one_transaction_leaves_the_store_usable(tmp_path: Path) -> None:
    store = Store(tmp_path / "vendor.db")
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.reserve_nonce("nonce-gone-aaaaaaaaaa", at=AT, expires_at=AT + 3600)
        raise RuntimeError("signing failed")
    with store.transaction() as tx:
        tx.reserve_nonce("nonce-kept-aaaaaaaaaa", at=AT, expires_at=AT + 3600)
    assert store.nonce_seen("nonce-kept-aaaaaaaaaa", now=AT)
    assert not store.nonce_seen("nonce-gone-aaaaaaaaaa", now=AT)
    store.close()


def test_two_stores_on_one_file_take_turns_at_writing_through_the_lock_file(
    tmp_path: Path,
) -> None:
    """As two server processes do: a writer waits for the other's turn (a ``flock``, which is per
    open file, so two stores in one process exclude each other the same way), and then writes
    at once instead of sleeping in SQLite's busy handler."""
    first, second = Store(tmp_path / "vendor.db"), Store(tmp_path / "vendor.db")
    lock_file = tmp_path / "vendor.db.lock"
    assert lock_file.stat().st_mode & 0o777 == 0o600
    first._process_lock.acquire()  # first's turn, as while it commits a batch
    done = threading.Event()

    def write() -> None:
        with second.transaction() as tx:
            tx.reserve_nonce("nonce-second-aaaaaaaa", at=AT, expires_at=AT + 3600)
        done.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert not done.wait(0.3), "the second store wrote during the first one's turn"
    first._process_lock.release()
    assert done.wait(5)
    writer.join()

    # Both keep writing, many threads each, and nothing is lost between them.
    def burst(store: Store, tag: str) -> None:
        for j in range(25):
            with store.transaction() as tx:
                tx.reserve_nonce(f"nonce-{tag}-{j:02d}-aaaaaaaa", at=AT, expires_at=AT + 3600)

    threads = [
        threading.Thread(target=burst, args=(store, f"{name}{i}"))
        for name, store in (("a", first), ("b", second))
        for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first.close()
    second.close()
    assert len(_committed_nonces(tmp_path / "vendor.db")) == 1 + 8 * 25


class UndoFails:
    """The writing connection, whose ROLLBACK TO (undoing one transaction) fails once."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db
        self.failed = False

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "ROLLBACK TO tx" and not self.failed:
            self.failed = True
            raise sqlite3.OperationalError("disk I/O error (injected)")
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


def test_a_transaction_that_cannot_be_undone_is_never_committed(tmp_path: Path) -> None:
    """Its half-written statements must not be committed while its caller is told it failed:
    the batch is rolled back whole, and the store works on (found by helper contact-loop)."""
    store = Store(tmp_path / "vendor.db")
    with store.transaction() as tx:
        tx.reserve_nonce("nonce-used-aaaaaaaaaa", at=AT, expires_at=AT + 3600)
    spy = UndoFails(store._db)
    store._db = spy  # type: ignore[assignment]
    with pytest.raises(ReplayedNonce), store.transaction() as tx:
        tx.reserve_nonce("nonce-half-bbbbbbbbbb", at=AT, expires_at=AT + 3600)
        tx.reserve_nonce("nonce-used-aaaaaaaaaa", at=AT, expires_at=AT + 3600)
    assert spy.failed
    with store.transaction() as tx:
        tx.reserve_nonce("nonce-later-ccccccccc", at=AT, expires_at=AT + 3600)
    store.close()
    assert _committed_nonces(tmp_path / "vendor.db") == {
        "nonce-used-aaaaaaaaaa",
        "nonce-later-ccccccccc",
    }
