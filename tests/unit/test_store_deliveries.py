"""Schema 3: the deliveries table on a real SQLite file, and the migration that seeds it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from server_stub.store.db import SCHEMA_VERSION, DeliveryRow, DeviceRow, Store
from server_stub.store.schema import MIGRATIONS

AT = 1630497600
DAY = 86400


def _v2_database(path: Path) -> None:
    """A database as schema 2 left it: two devices and the verdicts they were sent."""
    db = sqlite3.connect(path)
    for step in (1, 2):
        MIGRATIONS[step](db)
    statuses = {
        # a phone locked on day 3, released on day 5, locked again on day 9
        "RN9S0001": ["activated", "activated", "locked", "locked", "activated", "locked"],
        # a German phone: never locked
        "RN9S0002": ["activated", "activated"],
    }
    for serial, seen in statuses.items():
        db.execute(
            "INSERT INTO devices VALUES (?, '[]', 'Redmi Note 9S', 'MI', ?, ?, ?, 'X', ?, '{}')",
            (serial, AT, AT, seen[-1], len(seen)),
        )
        for sequence, status in enumerate(seen, start=1):
            db.execute(
                "INSERT INTO verdicts VALUES (?, ?, ?, ?, 'p', ?, x'7b7d')",
                (serial, sequence, status, status.upper(), AT + (sequence - 1) * 2 * DAY),
            )
    db.execute("PRAGMA user_version = 2")
    db.commit()
    db.close()


def test_a_schema_2_database_gets_its_deliveries_from_the_verdicts_sent(tmp_path: Path) -> None:
    path = tmp_path / "vendor.db"
    _v2_database(path)
    with Store(path) as store:
        assert store.pragma("user_version") == SCHEMA_VERSION == 4
        assert store.counts()["accounts"] == 0  # and on through schema 4: the account tables
        with store.read() as tx:
            history = tx.deliveries("RN9S0001")
            latest = tx.latest_deliveries()
            assert tx.deliveries("RN9S0002") == []
    # Each change to or from "locked", at the verdict that made it; when it was decided is lost.
    assert history == [
        DeliveryRow("RN9S0001", 3, "lock", "LOCKED", None, AT + 4 * DAY),
        DeliveryRow("RN9S0001", 5, "release", "ACTIVATED", None, AT + 8 * DAY),
        DeliveryRow("RN9S0001", 6, "lock", "LOCKED", None, AT + 10 * DAY),
    ]
    assert latest == {"RN9S0001": history[-1]}


def test_deliveries_are_kept_in_a_transaction_and_read_newest_last(tmp_path: Path) -> None:
    with Store(tmp_path / "vendor.db") as store:
        with store.transaction() as tx:
            for serial in ("A0000001", "B0000002"):  # deliveries refer to their device
                tx.save_device(DeviceRow(serial, (), "m", "MI", 0, 0, "locked", "X", 12))
            for sequence in range(1, 13):
                kind = "lock" if sequence % 2 else "release"
                tx.add_delivery(DeliveryRow("A0000001", sequence, kind, "R", None, sequence))
            tx.add_delivery(DeliveryRow("B0000002", 4, "lock", "R", 1, 2))
        with store.read() as tx:
            last = tx.deliveries("A0000001")
            latest = tx.latest_deliveries()
        assert store.counts()["deliveries"] == 13
    assert [row.sequence for row in last] == list(range(3, 13))  # the last 10, oldest first
    assert {serial: row.sequence for serial, row in latest.items()} == {
        "A0000001": 12,
        "B0000002": 4,
    }


def test_a_delivery_must_name_a_device_the_store_knows(tmp_path: Path) -> None:
    with Store(tmp_path / "vendor.db") as store:
        with pytest.raises(sqlite3.IntegrityError), store.transaction() as tx:
            tx.add_delivery(DeliveryRow("NOBODY01", 1, "lock", "R", None, 1))
        assert store.counts()["deliveries"] == 0
