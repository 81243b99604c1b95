"""Group commit: transactions queued behind one another share a commit, and none returns early.

Every ``transaction()`` that returned is on disk (a second connection sees it); a transaction
that fails inside a shared commit takes only its own writes with it.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from phone_sim.protocol.errors import ReplayedNonce
from server_stub.store import Store

AT = 1630497600


def _committed_nonces(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT nonce FROM nonces")}


def test_concurrent_transactions_are_all_committed_before_they_return(tmp_path: Path) -> None:
    store = Store(tmp_path / "vendor.db")
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
