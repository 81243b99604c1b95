"""Accounts, device bindings, wrong passwords and device keys, inside one store transaction.

Schema version 3 (``schema.V3``). Reached as ``tx.accounts`` (:class:`AccountRows`), so a
contact reads and writes them in its own transaction. Rows are frozen values; the rules that
use them live in ``server_stub.engine.accounts``. A password never reaches this module: only
the hash the engine made (``server_stub.engine.passwords``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class AccountRow:
    name: str
    kdf: str
    salt: bytes
    password_hash: bytes
    created_at: int


@dataclass(frozen=True)
class Binding:
    """A device signed in to an account; ``locked_at`` set while the account lock holds."""

    serial: str
    account: str
    find_device: bool
    bound_at: int
    locked_at: int | None = None

    @property
    def locked(self) -> bool:
        return self.locked_at is not None


@dataclass(frozen=True)
class DeviceKey:
    serial: str
    public_key: str  # SubjectPublicKeyInfo DER, base64
    since: int


_BINDING = "serial, account, find_device, bound_at, locked_at"


def _binding(row: tuple[str, str, int, int, int | None]) -> Binding:
    serial, account, find_device, bound_at, locked_at = row
    return Binding(serial, account, bool(find_device), bound_at, locked_at)


class AccountRows:
    """The version 3 tables, through the connection of one transaction (or one read)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    # --- accounts --------------------------------------------------------------------------

    def account(self, name: str) -> AccountRow | None:
        row = self._db.execute(
            "SELECT name, kdf, salt, password_hash, created_at FROM accounts WHERE name = ?",
            (name,),
        ).fetchone()
        return None if row is None else AccountRow(*row)

    def add_account(self, account: AccountRow) -> None:
        self._db.execute(
            "INSERT INTO accounts (name, kdf, salt, password_hash, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (account.name, account.kdf, account.salt, account.password_hash, account.created_at),
        )

    # --- bindings --------------------------------------------------------------------------

    def binding(self, serial: str) -> Binding | None:
        row = self._db.execute(
            f"SELECT {_BINDING} FROM account_bindings WHERE serial = ?",  # noqa: S608
            (serial,),
        ).fetchone()
        return None if row is None else _binding(row)

    def bindings(self) -> dict[str, Binding]:
        """Every device's binding, by serial."""
        rows = self._db.execute(f"SELECT {_BINDING} FROM account_bindings").fetchall()  # noqa: S608
        return {row[0]: _binding(row) for row in rows}

    def save_binding(self, binding: Binding) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO account_bindings"
            " (serial, account, find_device, bound_at, locked_at) VALUES (?, ?, ?, ?, ?)",
            (
                binding.serial,
                binding.account,
                int(binding.find_device),
                binding.bound_at,
                binding.locked_at,
            ),
        )

    def drop_binding(self, serial: str) -> None:
        self._db.execute("DELETE FROM account_bindings WHERE serial = ?", (serial,))

    # --- wrong passwords -------------------------------------------------------------------

    def add_failure(self, *, account: str, serial: str, at: int) -> None:
        self._db.execute(
            "INSERT INTO password_failures (account, serial, at) VALUES (?, ?, ?)",
            (account, serial, at),
        )

    def failures(
        self, *, account: str | None = None, serial: str | None = None, after: int
    ) -> list[int]:
        """When the wrong passwords for ``account`` (or by ``serial``) later than ``after`` were
        given, oldest first. A time later than now (a clock set back) counts too."""
        column, value = ("account", account) if account is not None else ("serial", serial)
        rows = self._db.execute(
            f"SELECT at FROM password_failures WHERE {column} = ? AND at > ? ORDER BY at",  # noqa: S608
            (value, after),
        ).fetchall()
        return [at for (at,) in rows]

    def forget_failures(self, *, account: str, serial: str) -> None:
        """A right password clears what this device got wrong for this account."""
        self._db.execute(
            "DELETE FROM password_failures WHERE account = ? AND serial = ?", (account, serial)
        )

    def prune_failures(self, *, before: int) -> None:
        """Failures too old to count (the table stays bounded by one window of attempts)."""
        self._db.execute("DELETE FROM password_failures WHERE at <= ?", (before,))

    # --- device keys -----------------------------------------------------------------------

    def device_key(self, serial: str) -> DeviceKey | None:
        row = self._db.execute(
            "SELECT serial, public_key, since FROM device_keys WHERE serial = ?", (serial,)
        ).fetchone()
        return None if row is None else DeviceKey(*row)

    def keyed_serials(self) -> set[str]:
        """The devices whose key the vendor holds."""
        return {serial for (serial,) in self._db.execute("SELECT serial FROM device_keys")}

    def remember_key(self, key: DeviceKey) -> None:
        """Keep the device's certified key from its first version 2 verdict on (a device's key
        is its hardware's: it never changes)."""
        self._db.execute(
            "INSERT OR IGNORE INTO device_keys (serial, public_key, since) VALUES (?, ?, ?)",
            (key.serial, key.public_key, key.since),
        )
