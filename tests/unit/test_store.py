"""The vendor database on a real SQLite file: transactions, nonces, audit log, migration."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from phone_sim.protocol.errors import ReplayedNonce
from phone_sim.protocol.messages import VerdictStatus
from server_stub.engine.decide import evaluate
from server_stub.engine.memory import DeviceMemory, Source
from server_stub.errors import StoreError
from server_stub.policy import load_default_policy
from server_stub.store.checkpoint import START_AFTER
from server_stub.store.db import SCHEMA_VERSION, AuditRecord, DeviceRow, PendingHold, Store, Tx
from server_stub.store.schema import V1

AT = 1630497600
SERIAL = "RN9S0001"
IMEI = "867812040000010"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "vendor.db") as s:
        yield s


def device(
    sequence: int = 1,
    *,
    serial: str = SERIAL,
    at: int = AT,
    memory: dict[str, object] | None = None,
) -> DeviceRow:
    return DeviceRow(
        serial=serial,
        imeis=(IMEI,) if serial == SERIAL else ("490154203237518",),
        model="Redmi Note 9S",
        market="MI",
        first_seen=AT,
        last_seen=at,
        status="activated",
        reason="ACTIVATION_OK",
        last_sequence=sequence,
        memory=memory or {"last_contact": at},
    )


def audit(serial: str | None = SERIAL, *, kind: str = "checkin", at: int = AT) -> AuditRecord:
    return AuditRecord(
        at=at,
        kind=kind,
        actor="device",
        serial=serial,
        imei=IMEI,
        inputs={"sims": []},
        rule="no-sim",
        policy_version="test-1",
        status="activated",
        reason="ACTIVATION_OK",
        sequence=1,
    )


def contact(tx: Tx, nonce: str, sequence: int = 1, *, at: int = AT) -> None:
    """What one accepted contact writes."""
    tx.reserve_nonce(nonce, at=at, expires_at=at + 3600)
    tx.save_device(device(sequence, at=at))
    tx.add_verdict(
        SERIAL,
        sequence=sequence,
        status="activated",
        reason="ACTIVATION_OK",
        policy_version="test-1",
        issued_at=at,
        body=b"{}",
    )
    tx.append_audit(audit(at=at))


def test_wal_mode_and_full_sync_are_on(store: Store) -> None:
    assert store.pragma("journal_mode") == "wal"
    assert store.pragma("synchronous") == 2  # FULL
    assert (store.path.parent / "vendor.db-wal").exists()
    assert store.pragma("user_version") == SCHEMA_VERSION == 4


def _checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "wal-checkpoint"]


def test_the_checkpointer_starts_after_some_commits_and_stops_with_the_store(
    tmp_path: Path,
) -> None:
    # docs/decisions/checkpointer-starts-after-some-commits.md: a test's world (a few commits)
    # starts no thread and opens no connection for it; a store that keeps committing has one.
    before = _checkpoint_threads()
    with Store(tmp_path / "vendor.db") as store:
        for n in range(START_AFTER - 1):
            with store.transaction() as tx:
                tx.reserve_nonce(f"nonce-{n:012d}", at=AT, expires_at=AT + 3600)
        assert _checkpoint_threads() == before
        with store.transaction() as tx:
            tx.reserve_nonce("nonce-the-last-one", at=AT, expires_at=AT + 3600)
        started = [t for t in _checkpoint_threads() if t not in before]
        assert len(started) == 1 and started[0].is_alive()
    assert not started[0].is_alive()
    # Closing checkpointed every commit into the database file, as SQLite's close does.
    assert not (tmp_path / "vendor.db-wal").exists()
    db = sqlite3.connect(tmp_path / "vendor.db")
    try:
        assert db.execute("SELECT count(*) FROM nonces").fetchone() == (START_AFTER,)
    finally:
        db.close()


def test_a_contact_is_written_in_one_transaction(store: Store) -> None:
    with store.transaction() as tx:
        contact(tx, "nonce-aaaaaaaaaaaa")
        tx.add_activation(
            SERIAL, at=AT, sims=[{"slot": 1}], nonce="nonce-aaaaaaaaaaaa", decision={"rule": "x"}
        )

    assert store.counts() == {
        "devices": 1,
        "activations": 1,
        "verdicts": 1,
        "nonces": 1,
        "pending_holds": 0,
        "audit": 1,
        "deliveries": 0,
        "accounts": 0,
        "account_bindings": 0,
        "password_failures": 0,
        "device_keys": 0,
    }
    assert store.device(SERIAL) == device()
    (activation,) = store.activations(SERIAL)
    assert (activation["sims"], activation["decision"]) == ([{"slot": 1}], {"rule": "x"})


def test_a_reused_nonce_rolls_back_the_whole_transaction(store: Store) -> None:
    with store.transaction() as tx:
        contact(tx, "nonce-aaaaaaaaaaaa")
    before = store.counts()

    with pytest.raises(ReplayedNonce), store.transaction() as tx:
        tx.save_device(device(2, serial="OTHER0001"))  # written first, then undone
        tx.reserve_nonce("nonce-aaaaaaaaaaaa", at=AT + 10, expires_at=AT + 3610)

    assert store.counts() == before
    assert store.device("OTHER0001") is None
    assert store.nonce_seen("nonce-aaaaaaaaaaaa", now=AT + 10)


def test_any_failure_inside_rolls_everything_back(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as tx:
        contact(tx, "nonce-aaaaaaaaaaaa")
        raise RuntimeError("signing failed")
    assert set(store.counts().values()) == {0}
    assert not store.nonce_seen("nonce-aaaaaaaaaaaa", now=AT)


def test_expired_nonces_are_pruned(store: Store) -> None:
    for i in range(5):
        with store.transaction() as tx:
            tx.reserve_nonce(f"nonce-old-{i:010d}", at=AT, expires_at=AT + 3600)
    with store.transaction() as tx:
        # An hour later every earlier nonce has expired; the next reservation prunes them.
        tx.reserve_nonce("nonce-new-0000000000", at=AT + 3600, expires_at=AT + 7200)
    assert store.counts()["nonces"] == 1
    assert not store.nonce_seen("nonce-old-0000000000", now=AT + 3600)


def test_transactions_do_not_interleave(store: Store) -> None:
    # Read-modify-write of one device from eight threads: no update may be lost.
    with store.transaction() as tx:
        tx.save_device(device(0))

    def bump() -> None:
        with store.transaction() as tx:
            row = tx.device(SERIAL)
            assert row is not None
            tx.save_device(device(row.last_sequence + 1))

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    row = store.device(SERIAL)
    assert row is not None and row.last_sequence == 8


def test_devices_are_found_by_imei_and_pending_holds_by_target(store: Store) -> None:
    with store.transaction() as tx:
        tx.save_device(device())
        tx.put_pending_hold(PendingHold("490154203237518", "investigation", None, AT))
    with store.transaction() as tx:
        found = tx.device_by_imei(IMEI)
        assert found is not None and found.serial == SERIAL
        assert tx.device_by_imei("490154203237518") is None
        assert [h.reason for h in tx.pending_holds(["490154203237518", "X"])] == ["investigation"]
        assert tx.pending_holds(["RN9S0001"]) == []
        tx.drop_pending_hold("490154203237518")
        assert tx.pending_holds() == []


def _vm_steps(tx: Tx, ask: Callable[[], object]) -> int:
    """SQLite virtual-machine steps (in hundreds) that ``ask`` takes on ``tx``'s connection."""
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    tx._db.set_progress_handler(count, 100)
    try:
        ask()
    finally:
        tx._db.set_progress_handler(None, 100)
    return steps


def test_a_contact_reads_only_its_own_pending_holds(store: Store) -> None:
    """A contact asks for the holds on its serial and IMEIs by the table's key: what it costs
    does not grow with the operator's holds on other devices not seen yet."""
    mine = (SERIAL, IMEI, "490154203237518")
    with store.transaction() as tx:
        tx.put_pending_hold(PendingHold(IMEI, "later", None, AT + 5))
        tx.put_pending_hold(PendingHold(SERIAL, "sooner", None, AT))
        alone = _vm_steps(tx, lambda: tx.pending_holds(mine))
        for n in range(5000):
            tx.put_pending_hold(PendingHold(f"35{n:013d}", "bulk", None, AT - n))
        crowded = _vm_steps(tx, lambda: tx.pending_holds(mine))
        # In the order they were placed, as before; all 5,002 when asked for all.
        assert [h.reason for h in tx.pending_holds(mine)] == ["sooner", "later"]
        assert len(tx.pending_holds()) == 5002
    # Reading the whole table took about 700 hundreds of steps here; its key takes a few.
    assert crowded <= 2 * alone + 10, (alone, crowded)


def test_the_devices_met_last_are_read_from_the_end_of_the_table(store: Store) -> None:
    def dual(serial: str, n: int) -> DeviceRow:
        return dataclasses.replace(device(), serial=serial, imeis=(f"35{n:012d}1", f"35{n:012d}2"))

    with store.transaction() as tx:
        for n in range(3):
            tx.save_device(dual(f"RN9SZ{n}", 90000 + n))
        few = _vm_steps(tx, lambda: tx.devices_met_last(2))
        assert [r.serial for r in tx.devices_met_last(2)] == ["RN9SZ1", "RN9SZ2"]
        for n in range(5000):
            tx.save_device(dual(f"RN9S{n:06d}", n))
        tx.save_device(dataclasses.replace(dual("RN9SZ0", 90000), last_seen=AT + 1))
        many = _vm_steps(tx, lambda: tx.devices_met_last(2))
        # Met, not seen: a device seen again keeps its place.
        assert [r.serial for r in tx.devices_met_last(2)] == ["RN9S004998", "RN9S004999"]
        assert tx.device_count() == 5003
    assert many <= 2 * few + 10, (few, many)


# --- the audit log ----------------------------------------------------------------------------


def test_audit_pages_newest_last_and_after_an_id(store: Store) -> None:
    with store.transaction() as tx:
        ids = [tx.append_audit(audit(at=AT + i)) for i in range(5)]
        tx.append_audit(audit("OTHER0001"))
    assert [r.id for r in store.audit(limit=3)] == [ids[3], ids[4], ids[4] + 1]
    assert [r.id for r in store.audit(after_id=ids[1], limit=2)] == ids[2:4]
    assert [r.id for r in store.audit(serial=SERIAL, limit=2)] == ids[3:5]
    assert store.audit(after_id=ids[4] + 1) == []
    row = store.audit(limit=1, serial=SERIAL)[0]
    assert (row.kind, row.inputs, row.rule, row.at) == ("checkin", {"sims": []}, "no-sim", AT + 4)


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit SET reason = 'RELEASED'", "DELETE FROM audit", "DELETE FROM audit WHERE id = 1"],
)
def test_the_audit_log_refuses_changes(store: Store, statement: str) -> None:
    with store.transaction() as tx:
        tx.append_audit(audit())
    # Another connection, as anyone with the file would have: the database itself refuses.
    db = sqlite3.connect(store.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="the audit log is append-only"):
            db.execute(statement)
    finally:
        db.close()
    assert [r.reason for r in store.audit()] == ["ACTIVATION_OK"]


# --- schema -----------------------------------------------------------------------------------


def _v1_database(path: Path) -> None:
    db = sqlite3.connect(path)
    for statement in V1:
        db.execute(statement)
    sims = json.dumps(
        [{"slot": 1, "iccid": "8953010000000000011", "home_mcc": "368", "home_mnc": "01"}]
    )
    db.execute(
        "INSERT INTO devices VALUES (?, ?, 'Redmi Note 9S', 'MI', ?, ?, 'locked',"
        " 'EMBARGOED_TERRITORY', 1)",
        (SERIAL, json.dumps([IMEI]), AT, AT),
    )
    decision = {
        "status": "locked",
        "reason": "EMBARGOED_TERRITORY",
        "rule": "embargo:home",
        "policy_version": "2021-09-sanctions-1",
        "territory": "Cuba",
        "network": "368-01",
        "slot": 1,
    }
    db.execute(
        "INSERT INTO activations (serial, at, sims, nonce, decision) VALUES (?, ?, ?, ?, ?)",
        (SERIAL, AT, sims, "nonce-v1-00000000", json.dumps(decision)),
    )
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()


def test_an_issue_2_database_is_migrated_and_its_locks_stay(tmp_path: Path) -> None:
    path = tmp_path / "vendor.db"
    _v1_database(path)
    with Store(path) as store:
        assert store.pragma("user_version") == SCHEMA_VERSION
        assert store.counts()["audit"] == 0
        row = store.device(SERIAL)
        assert row is not None
    memory = DeviceMemory.from_json(dict(row.memory))
    (flag,) = memory.flags
    assert (flag.source, flag.territory, flag.since, flag.enforced_at) == (
        Source.ACTIVATION,
        "Cuba",
        AT,
        AT,
    )
    # Under the new default policy (3-day delay) the phone locked on day 0 stays locked: the
    # migrated lock counts as enforced, so it is not "released" by the longer delay.
    outcome = evaluate(load_default_policy(), memory, market="MI", sims=(), at=AT + 3600)
    assert (outcome.status, outcome.reason.value) == (VerdictStatus.LOCKED, "EMBARGOED_TERRITORY")


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vendor.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer than this server"):
        Store(path)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vendor.db"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        Store(path)
