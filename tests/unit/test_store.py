"""The vendor database on a real SQLite file: atomic activations, nonces, sequences, durability."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from phone_sim.protocol.errors import ReplayedNonce
from server_stub.errors import StoreError
from server_stub.store import SCHEMA_VERSION, ActivationRecord, Store

AT = 1630497600


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "vendor.db") as s:
        yield s


def record(
    nonce: str, *, serial: str = "RN9S0001", at: int = AT, status: str = "locked"
) -> ActivationRecord:
    return ActivationRecord(
        serial=serial,
        imeis=("867812040000010",),
        model="Redmi Note 9S",
        market="MI",
        sims=[{"slot": 1, "home_mcc": "368", "home_mnc": "01"}],
        nonce=nonce,
        at=at,
        nonce_expires_at=at + 3600,
        status=status,
        reason="EMBARGOED_TERRITORY" if status == "locked" else "ACTIVATION_OK",
        policy_version="test-1",
        decision={"rule": "embargo:home", "territory": "Cuba"},
    )


def body(sequence: int) -> bytes:
    return f'{{"sequence":{sequence}}}'.encode()


def test_wal_mode_and_full_sync_are_on(store: Store) -> None:
    assert store.pragma("journal_mode") == "wal"
    assert store.pragma("synchronous") == 2  # FULL
    assert (store.path.parent / "vendor.db-wal").exists()


def test_an_activation_writes_device_activation_verdict_and_nonce(store: Store) -> None:
    sequence = store.record_activation(record("nonce-aaaaaaaaaaaa"), body)

    assert sequence == 1
    assert store.counts() == {"devices": 1, "activations": 1, "verdicts": 1, "nonces": 1}
    device = store.device("RN9S0001")
    assert device is not None
    assert (device.status, device.reason, device.last_sequence) == (
        "locked",
        "EMBARGOED_TERRITORY",
        1,
    )
    assert (device.first_seen, device.last_seen, device.imeis) == (AT, AT, ("867812040000010",))
    (verdict,) = store.verdicts("RN9S0001")
    assert (verdict.sequence, verdict.body, verdict.issued_at) == (1, body(1), AT)
    (activation,) = store.activations("RN9S0001")
    assert activation["decision"] == {"rule": "embargo:home", "territory": "Cuba"}
    assert activation["sims"][0]["home_mcc"] == "368"


def test_reused_nonce_is_refused_and_writes_nothing(store: Store) -> None:
    store.record_activation(record("nonce-aaaaaaaaaaaa"), body)
    before = store.counts()

    with pytest.raises(ReplayedNonce):
        # Another device, even: nonces are global, and the device row must not appear either.
        store.record_activation(record("nonce-aaaaaaaaaaaa", serial="OTHER0001", at=AT + 10), body)

    assert store.counts() == before
    assert store.device("OTHER0001") is None
    assert store.nonce_seen("nonce-aaaaaaaaaaaa", now=AT + 10)


def test_a_failing_render_rolls_everything_back(store: Store) -> None:
    def broken(sequence: int) -> bytes:
        raise RuntimeError("signing failed")

    with pytest.raises(RuntimeError):
        store.record_activation(record("nonce-aaaaaaaaaaaa"), broken)
    assert store.counts() == {"devices": 0, "activations": 0, "verdicts": 0, "nonces": 0}
    assert not store.nonce_seen("nonce-aaaaaaaaaaaa", now=AT)


def test_sequences_increase_per_device(store: Store) -> None:
    first = [store.record_activation(record(f"nonce-a-{i:012d}"), body) for i in range(3)]
    other = store.record_activation(record("nonce-b-000000000000", serial="OTHER0001"), body)
    fourth = store.record_activation(
        record("nonce-a-000000000004", at=AT + 60, status="activated"), body
    )

    assert first == [1, 2, 3]
    assert other == 1
    assert fourth == 4
    device = store.device("RN9S0001")
    assert device is not None
    assert (device.status, device.last_sequence, device.first_seen, device.last_seen) == (
        "activated",
        4,
        AT,
        AT + 60,
    )
    assert [v.sequence for v in store.verdicts("RN9S0001")] == [1, 2, 3, 4]


def test_sequences_continue_after_reopening(tmp_path: Path) -> None:
    with Store(tmp_path / "vendor.db") as store:
        store.record_activation(record("nonce-aaaaaaaaaaaa"), body)
    with Store(tmp_path / "vendor.db") as store:
        assert store.record_activation(record("nonce-bbbbbbbbbbbb"), body) == 2
        with pytest.raises(ReplayedNonce):
            store.record_activation(record("nonce-aaaaaaaaaaaa"), body)


def test_expired_nonces_are_pruned(store: Store) -> None:
    for i in range(5):
        store.record_activation(record(f"nonce-old-{i:010d}"), body)
    assert store.counts()["nonces"] == 5

    # An hour later every earlier nonce has expired; the next activation prunes them.
    store.record_activation(record("nonce-new-0000000000", at=AT + 3600), body)

    assert store.counts()["nonces"] == 1
    assert not store.nonce_seen("nonce-old-0000000000", now=AT + 3600)
    assert store.counts()["activations"] == 6  # the history itself is kept


def test_concurrent_activations_get_distinct_sequences(store: Store) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def activate(i: int) -> None:
        sequence = store.record_activation(record(f"nonce-thread-{i:08d}"), body)
        with lock:
            results.append(sequence)

    threads = [threading.Thread(target=activate, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == list(range(1, 9))


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vendor.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="schema version"):
        Store(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vendor.db"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        Store(path)
