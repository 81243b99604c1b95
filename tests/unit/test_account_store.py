"""The vendor's version 3 records: accounts (hashed), bindings, wrong passwords, device keys."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from phone_sim.protocol.account import AccountAction, TooManyAttempts
from phone_sim.protocol.contact import ContactKind
from server_stub.engine.accounts import (
    MAX_WRONG_PER_ACCOUNT,
    MAX_WRONG_PER_DEVICE,
    WINDOW,
    AccountAttempt,
    _check_limits,
    apply,
    engage,
)
from server_stub.engine.passwords import KDF, new_account, password_matches
from server_stub.store.accounts import Binding
from server_stub.store.db import SCHEMA_VERSION, DeviceRow, Store

AT = 1630497600
SERIAL = "RN10P2109000001"
PASSWORD = "correct-horse-9"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store(tmp_path / "vendor.db")
    with opened.transaction() as tx:
        tx.save_device(
            DeviceRow(
                SERIAL,
                ("867531040000016",),
                "Redmi Note 10 Pro",
                "MI",
                AT,
                AT,
                "activated",
                "ACTIVATION_OK",
                1,
            )
        )
    yield opened
    opened.close()


def test_a_password_is_kept_as_a_salted_scrypt_hash_and_never_in_clear(store: Store) -> None:
    first = new_account("alice@example.com", PASSWORD, at=AT)
    second = new_account("bob@example.com", PASSWORD, at=AT)
    assert first.kdf == KDF == "scrypt:16384:8:1"
    assert len(first.salt) == 16 and first.salt != second.salt
    assert first.password_hash != second.password_hash  # the same password, other salts
    assert password_matches(first, PASSWORD) and not password_matches(first, PASSWORD + "!")
    with store.transaction() as tx:
        tx.accounts.add_account(first)
    store.close()
    for path in store.path.parent.iterdir():
        assert PASSWORD.encode() not in path.read_bytes(), path


def test_the_limits_count_per_account_and_per_device_and_say_when_to_come_back(
    store: Store,
) -> None:
    with store.transaction() as tx:
        rows = tx.accounts
        for i in range(MAX_WRONG_PER_ACCOUNT):
            assert _check_limits(rows, account="alice", serial=SERIAL, now=AT + i) == (
                MAX_WRONG_PER_ACCOUNT - i
            )
            rows.add_failure(account="alice", serial=SERIAL, at=AT + i)
        with pytest.raises(TooManyAttempts, match="this account") as refused:
            _check_limits(rows, account="alice", serial=SERIAL, now=AT + 100)
        # The oldest counted failure leaves the window at AT + WINDOW.
        assert refused.value.retry_after == AT + WINDOW - (AT + 100)
        assert refused.value.status == 429
        # Another account from this device: the device's own limit is higher, not yet reached.
        assert _check_limits(rows, account="bob", serial=SERIAL, now=AT + 100) == (
            MAX_WRONG_PER_DEVICE - MAX_WRONG_PER_ACCOUNT
        )
        # The window slides: a day after each failure, that one no longer counts.
        assert _check_limits(rows, account="alice", serial=SERIAL, now=AT + WINDOW + 1) == 2
        assert _check_limits(rows, account="alice", serial=SERIAL, now=AT + WINDOW + 5) == 5


def test_failures_stamped_later_than_now_still_count(store: Store) -> None:
    with store.transaction() as tx:
        for i in range(MAX_WRONG_PER_ACCOUNT):
            tx.accounts.add_failure(account="alice", serial=SERIAL, at=AT + 3600 + i)
        with pytest.raises(TooManyAttempts):
            _check_limits(tx.accounts, account="alice", serial=SERIAL, now=AT)


def test_an_activation_engages_the_lock_of_a_device_bound_with_find_device(store: Store) -> None:
    with store.transaction() as tx:
        rows = tx.accounts
        rows.add_account(new_account("alice@example.com", PASSWORD, at=AT))
        rows.save_binding(Binding(SERIAL, "alice@example.com", find_device=True, bound_at=AT))
        # A check-in does not: the phone was not reset.
        assert engage(rows, SERIAL, ContactKind.CHECKIN, now=AT + 1) == (
            rows.binding(SERIAL),
            False,
        )
        binding, engaged = engage(rows, SERIAL, ContactKind.ACTIVATION, now=AT + 2)
        assert engaged and binding is not None and binding.locked_at == AT + 2
        # Once locked it stays as it was (not engaged twice).
        assert engage(rows, SERIAL, ContactKind.ACTIVATION, now=AT + 3) == (binding, False)
        # Without Find Device a reset does not lock.
        rows.save_binding(Binding(SERIAL, "alice@example.com", find_device=False, bound_at=AT))
        assert engage(rows, SERIAL, ContactKind.ACTIVATION, now=AT + 4)[1] is False


def test_a_wrong_unlock_is_recorded_against_the_bound_account_and_a_right_one_unlocks(
    store: Store,
) -> None:
    account = new_account("alice@example.com", PASSWORD, at=AT)
    with store.transaction() as tx:
        tx.accounts.add_account(account)
        tx.accounts.save_binding(
            Binding(SERIAL, account.name, find_device=True, bound_at=AT, locked_at=AT)
        )
    wrong = AccountAttempt(AccountAction.UNLOCK, "alice@example.com", True, account, None, False)
    with store.transaction() as tx:
        changed = apply(tx.accounts, wrong, serial=SERIAL, now=AT + 10)
        assert changed.failed and changed.attempts_left == MAX_WRONG_PER_ACCOUNT - 1
    with store.read() as tx:
        assert tx.accounts.failures(account=account.name, after=AT) == [AT + 10]
        assert tx.accounts.binding(SERIAL).locked  # type: ignore[union-attr]
    right = AccountAttempt(AccountAction.UNLOCK, "alice@example.com", True, account, None, True)
    with store.transaction() as tx:
        changed = apply(tx.accounts, right, serial=SERIAL, now=AT + 20)
        assert not changed.failed and changed.binding is not None and not changed.binding.locked
    with store.read() as tx:
        assert tx.accounts.failures(account=account.name, after=AT) == []  # forgiven


@pytest.mark.parametrize("version", [2, 3])
def test_an_older_database_gains_the_account_tables_and_keeps_its_rows(
    tmp_path: Path, version: int
) -> None:
    # Schema 3 added the deliveries (issue 18's delivery states), schema 4 the accounts: a
    # database of either version migrates to 4.
    path = tmp_path / "vendor.db"
    Store(path).close()
    db = sqlite3.connect(path)
    dropped = ["accounts", "account_bindings", "password_failures", "device_keys"]
    for table in dropped + (["deliveries"] if version == 2 else []):
        db.execute(f"DROP TABLE {table}")
    db.execute(
        "INSERT INTO devices (serial, imeis, model, market, first_seen, last_seen, status,"
        " reason, last_sequence) VALUES (?, '[]', 'm', 'MI', 1, 1, 'locked', 'X', 3)",
        (SERIAL,),
    )
    db.execute(f"PRAGMA user_version = {version}")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.pragma("user_version") == SCHEMA_VERSION == 4
        assert store.counts()["deliveries"] == 0
        counts = store.counts()
        assert counts["devices"] == 1
        assert {counts[t] for t in ("accounts", "account_bindings", "device_keys")} == {0}
        assert store.device(SERIAL).last_sequence == 3  # type: ignore[union-attr]
