"""Reads and writes inside one store transaction (:meth:`server_stub.store.db.Store.transaction`).

Rows are plain frozen values; JSON columns are decoded here so callers never see SQL or JSON
text. The device's decision memory stays a dict at this level: the store does not know the
engine, and the engine does not know SQL.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from phone_sim.protocol.errors import ReplayedNonce
from server_stub.store.accounts import AccountRows


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@dataclass(frozen=True)
class DeviceRow:
    serial: str
    imeis: tuple[str, ...]
    model: str
    market: str
    first_seen: int
    last_seen: int
    status: str  # the latest verdict's
    reason: str
    last_sequence: int
    memory: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PendingHold:
    """A hold on a serial or IMEI the server has not seen yet; it applies at first contact."""

    target: str
    reason: str
    message: str | None
    at: int


@dataclass(frozen=True)
class DeliveryRow:
    """A lock or release that reached its device: the verdict that carried it, and when."""

    serial: str
    sequence: int
    kind: str  # "lock" or "release"
    reason: str
    decided_at: int | None
    delivered_at: int


_DELIVERY_COLUMNS = "serial, sequence, kind, reason, decided_at, delivered_at"


@dataclass(frozen=True)
class AuditRecord:
    """One decision or operator action, as appended to the audit log."""

    at: int
    kind: str
    actor: str
    rule: str
    policy_version: str
    inputs: Mapping[str, Any]
    serial: str | None = None
    imei: str | None = None
    status: str | None = None
    reason: str | None = None
    sequence: int | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditRow(AuditRecord):
    id: int = 0


def audit_row(row: tuple[Any, ...]) -> AuditRow:
    (id_, at, kind, actor, serial, imei, inputs, rule, version, status, reason, seq, detail) = row
    return AuditRow(
        id=id_,
        at=at,
        kind=kind,
        actor=actor,
        serial=serial,
        imei=imei,
        inputs=json.loads(inputs),
        rule=rule,
        policy_version=version,
        status=status,
        reason=reason,
        sequence=seq,
        detail=json.loads(detail),
    )


_DEVICE_COLUMNS = (
    "serial, imeis, model, market, first_seen, last_seen, status, reason, last_sequence, memory"
)


def _device(row: tuple[Any, ...]) -> DeviceRow:
    serial, imeis, model, market, first_seen, last_seen, status, reason, sequence, memory = row
    return DeviceRow(
        serial,
        tuple(json.loads(imeis)),
        model,
        market,
        first_seen,
        last_seen,
        status,
        reason,
        sequence,
        memory=json.loads(memory),
    )


class Tx:
    """The operations of one transaction. Only valid inside ``Store.transaction()``."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    @property
    def accounts(self) -> AccountRows:
        """Accounts, bindings, wrong passwords and device keys (``store.accounts``)."""
        return AccountRows(self._db)

    # --- devices ---------------------------------------------------------------------------

    def device(self, serial: str) -> DeviceRow | None:
        row = self._db.execute(
            f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE serial = ?",  # noqa: S608
            (serial,),
        ).fetchone()
        return None if row is None else _device(row)

    def device_by_imei(self, imei: str) -> DeviceRow | None:
        # Every device's IMEIs are read: at 1,000,000 devices 0.2 s (0.6 s for one not there).
        # The operator's actions look here before they take the write lock (``admin.views.
        # locate``), never within it; an index would cost every first activation
        # (docs/decisions/imei-lookups-outside-the-write-lock.md).
        row = self._db.execute(
            f"SELECT {_DEVICE_COLUMNS} FROM devices WHERE EXISTS"  # noqa: S608
            " (SELECT 1 FROM json_each(devices.imeis) WHERE value = ?)",
            (imei,),
        ).fetchone()
        return None if row is None else _device(row)

    def devices(self) -> list[DeviceRow]:
        rows = self._db.execute(
            f"SELECT {_DEVICE_COLUMNS} FROM devices ORDER BY first_seen, serial"  # noqa: S608
        ).fetchall()
        return [_device(row) for row in rows]

    def devices_met_last(self, count: int) -> list[DeviceRow]:
        """The ``count`` devices the server met last (first saved last), in the order met: read
        from the end of the table, whatever its size."""
        rows = self._db.execute(
            f"SELECT {_DEVICE_COLUMNS} FROM devices ORDER BY rowid DESC LIMIT ?",  # noqa: S608
            (count,),
        ).fetchall()
        return [_device(row) for row in reversed(rows)]

    def device_count(self) -> int:
        (count,) = self._db.execute("SELECT count(*) FROM devices").fetchone()
        return int(count)

    def save_device(self, row: DeviceRow) -> None:
        self._db.execute(
            """
            INSERT INTO devices (serial, imeis, model, market, first_seen, last_seen,
                                 status, reason, last_sequence, memory)
            VALUES (:serial, :imeis, :model, :market, :first_seen, :last_seen,
                    :status, :reason, :last_sequence, :memory)
            ON CONFLICT (serial) DO UPDATE SET
                imeis = excluded.imeis, model = excluded.model, market = excluded.market,
                last_seen = excluded.last_seen, status = excluded.status,
                reason = excluded.reason, last_sequence = excluded.last_sequence,
                memory = excluded.memory
            """,
            {
                "serial": row.serial,
                "imeis": json.dumps(list(row.imeis)),
                "model": row.model,
                "market": row.market,
                "first_seen": row.first_seen,
                "last_seen": row.last_seen,
                "status": row.status,
                "reason": row.reason,
                "last_sequence": row.last_sequence,
                "memory": _json(dict(row.memory)),
            },
        )

    # --- holds on devices not seen yet -----------------------------------------------------

    def pending_holds(self, targets: Iterable[str] | None = None) -> list[PendingHold]:
        """All pending holds, or those naming one of ``targets`` (a serial and its IMEIs).

        A contact asks for its own few by the table's key: an operator's thousands of holds on
        devices not seen yet cost a contact nothing (the whole table was once read for each).
        """
        columns = "SELECT target, reason, message, at FROM pending_holds"
        if targets is None:
            rows = self._db.execute(f"{columns} ORDER BY at, target").fetchall()
        else:
            wanted = sorted(set(targets))
            marks = ", ".join("?" * len(wanted))
            rows = self._db.execute(
                f"{columns} WHERE target IN ({marks}) ORDER BY at, target",
                wanted,
            ).fetchall()
        return [PendingHold(*r) for r in rows]

    def put_pending_hold(self, hold: PendingHold) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO pending_holds (target, reason, message, at)"
            " VALUES (?, ?, ?, ?)",
            (hold.target, hold.reason, hold.message, hold.at),
        )

    def drop_pending_hold(self, target: str) -> None:
        self._db.execute("DELETE FROM pending_holds WHERE target = ?", (target,))

    # --- contacts --------------------------------------------------------------------------

    def reserve_nonce(self, nonce: str, *, at: int, expires_at: int) -> None:
        """Remember ``nonce`` until ``expires_at``.

        Raises:
            ReplayedNonce: the nonce is already remembered.
        """
        # Pruning here keeps the table bounded by the requests of one nonce lifetime.
        self._db.execute("DELETE FROM nonces WHERE expires_at <= ?", (at,))
        try:
            self._db.execute(
                "INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)", (nonce, expires_at)
            )
        except sqlite3.IntegrityError:
            raise ReplayedNonce("this request nonce was already used") from None

    def add_activation(
        self,
        serial: str,
        *,
        at: int,
        sims: Iterable[Mapping[str, Any]],
        nonce: str,
        decision: Mapping[str, Any],
    ) -> None:
        self._db.execute(
            "INSERT INTO activations (serial, at, sims, nonce, decision) VALUES (?, ?, ?, ?, ?)",
            (serial, at, _json([dict(s) for s in sims]), nonce, _json(dict(decision))),
        )

    def add_verdict(
        self,
        serial: str,
        *,
        sequence: int,
        status: str,
        reason: str,
        policy_version: str,
        issued_at: int,
        body: bytes,
    ) -> None:
        self._db.execute(
            "INSERT INTO verdicts (serial, sequence, status, reason, policy_version,"
            " issued_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (serial, sequence, status, reason, policy_version, issued_at, body),
        )

    # --- deliveries ------------------------------------------------------------------------

    def add_delivery(self, row: DeliveryRow) -> None:
        self._db.execute(
            f"INSERT INTO deliveries ({_DELIVERY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)",  # noqa: S608
            (row.serial, row.sequence, row.kind, row.reason, row.decided_at, row.delivered_at),
        )

    def deliveries(self, serial: str, *, last: int = 10) -> list[DeliveryRow]:
        """The device's last ``last`` deliveries, oldest first."""
        rows = self._db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries WHERE serial = ?"  # noqa: S608
            " ORDER BY sequence DESC LIMIT ?",
            (serial, last),
        ).fetchall()
        return [DeliveryRow(*row) for row in reversed(rows)]

    def latest_deliveries(self) -> dict[str, DeliveryRow]:
        """Each device's latest delivery, by serial."""
        rows = self._db.execute(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries AS d WHERE sequence ="  # noqa: S608
            " (SELECT max(sequence) FROM deliveries WHERE serial = d.serial)"
        ).fetchall()
        return {row[0]: DeliveryRow(*row) for row in rows}

    # --- audit -----------------------------------------------------------------------------

    def append_audit(self, record: AuditRecord) -> int:
        """Append one entry; returns its id. (Entries cannot be changed: triggers refuse it.)"""
        cursor = self._db.execute(
            "INSERT INTO audit (at, kind, actor, serial, imei, inputs, rule, policy_version,"
            " status, reason, sequence, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                record.at,
                record.kind,
                record.actor,
                record.serial,
                record.imei,
                _json(dict(record.inputs)),
                record.rule,
                record.policy_version,
                record.status,
                record.reason,
                record.sequence,
                _json(dict(record.detail)),
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid
