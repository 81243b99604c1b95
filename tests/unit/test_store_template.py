"""A new store's file is the process's empty database (server_stub/store/template.py): the same
schema the migrations build, made without running them again, and never written over a file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from phone_sim.protocol.files import throwaway
from server_stub.store import schema, template
from server_stub.store.db import SCHEMA_VERSION, Store


def _schema(path: Path) -> tuple[int, list[tuple[str, str, str, str | None]]]:
    db = sqlite3.connect(path)
    try:
        (version,) = db.execute("PRAGMA user_version").fetchone()
        rows = db.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        return version, rows
    finally:
        db.close()


def test_a_new_store_has_the_schema_the_migrations_build(tmp_path: Path) -> None:
    migrated = tmp_path / "migrated.db"
    db = sqlite3.connect(migrated, isolation_level=None)
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("BEGIN IMMEDIATE")
    for step in range(1, SCHEMA_VERSION + 1):
        schema.MIGRATIONS[step](db)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    db.execute("COMMIT")
    db.close()
    with Store(tmp_path / "new.db") as store:
        assert store.created
        assert store.pragma("journal_mode") == "wal"
        assert store.counts() == dict.fromkeys(schema.TABLES, 0)
    version, rows = _schema(tmp_path / "new.db")
    assert (version, rows) == _schema(migrated)
    assert version == SCHEMA_VERSION and len(rows) > len(schema.TABLES)


def test_a_new_store_runs_no_migration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    template.empty_database()  # this process's template exists (any earlier store made it)

    def refuse(db: sqlite3.Connection) -> None:
        raise AssertionError("a migration ran for a new store")

    monkeypatch.setattr(schema, "MIGRATIONS", dict.fromkeys(schema.MIGRATIONS, refuse))
    with throwaway(tmp_path), Store(tmp_path / "world" / "vendor.db") as store:
        assert store.created
        with store.transaction() as tx:
            tx.reserve_nonce("n-1", at=1630497600, expires_at=1630497900)
    with Store(tmp_path / "world" / "vendor.db") as again:
        assert not again.created
        assert again.counts()["nonces"] == 1


def test_an_existing_file_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "vendor.db"
    with Store(path) as store, store.transaction() as tx:
        tx.reserve_nonce("n-1", at=1630497600, expires_at=1630497900)
    assert not template.create(path)
    with Store(path) as store:
        assert not store.created
        assert store.counts()["nonces"] == 1
    # Nothing is left beside it either.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["vendor.db", "vendor.db.lock"]


def test_a_directory_that_cannot_be_written_fails_as_before(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "vendor.db"  # no such directory: SQLite says so
    assert not template.create(path)
    assert not path.parent.exists()
