"""The store's reads of what is committed: each through a read-only connection of its own, one
snapshot of the last commit (:class:`~server_stub.store.readers.Readers`), never through the
writer, whose batch may not be committed yet (``db``'s module docstring). The admin API's views,
the audit log and the tests' row counts read here; a read that must see its own transaction's
writes is made inside it (``Tx``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from server_stub.store.readers import Readers
from server_stub.store.schema import TABLES
from server_stub.store.tx import AuditRow, DeviceRow, Tx, audit_row


@dataclass(frozen=True)
class VerdictRow:
    serial: str
    sequence: int
    status: str
    reason: str
    policy_version: str
    issued_at: int
    body: bytes


class CommittedReads:
    """:class:`~server_stub.store.db.Store`'s reads (mixed into it): committed data only."""

    _readers: Readers

    @contextmanager
    def read(self) -> Iterator[Tx]:
        """One consistent snapshot of what is committed, to read through ``Tx``'s reads (its
        writes are refused)."""
        with self._readers.snapshot() as db:
            yield Tx(db)

    def nonce_seen(self, nonce: str, *, now: int) -> bool:
        """True if ``nonce`` was used and is still remembered (a request using it gets 409)."""
        with self._readers.snapshot() as db:
            row = db.execute(
                "SELECT 1 FROM nonces WHERE nonce = ? AND expires_at > ?", (nonce, now)
            ).fetchone()
        return row is not None

    def device(self, serial: str) -> DeviceRow | None:
        with self.read() as tx:
            return tx.device(serial)

    def verdicts(self, serial: str, *, last: int | None = None) -> list[VerdictRow]:
        """The device's verdicts, oldest first (only the ``last`` newest if given)."""
        with self._readers.snapshot() as db:
            rows = db.execute(
                "SELECT serial, sequence, status, reason, policy_version, issued_at, body"
                " FROM verdicts WHERE serial = ? ORDER BY sequence DESC LIMIT ?",
                (serial, -1 if last is None else last),
            ).fetchall()
        return [VerdictRow(*row) for row in reversed(rows)]

    def activations(self, serial: str) -> list[dict[str, Any]]:
        """The device's accepted activation requests, oldest first, with their decisions."""
        with self._readers.snapshot() as db:
            rows = db.execute(
                "SELECT id, at, sims, nonce, decision FROM activations"
                " WHERE serial = ? ORDER BY id",
                (serial,),
            ).fetchall()
        return [
            {
                "id": r[0],
                "at": r[1],
                "sims": json.loads(r[2]),
                "nonce": r[3],
                "decision": json.loads(r[4]),
            }
            for r in rows
        ]

    def audit(
        self,
        *,
        after_id: int | None = None,
        limit: int = 100,
        serial: str | None = None,
        imei: str | None = None,
    ) -> list[AuditRow]:
        """Audit entries, oldest first: those after ``after_id``, or else the newest ``limit``.

        ``serial`` or ``imei`` keeps only the entries about that device.
        """
        where, params = "", []
        if serial is not None:
            where, params = "WHERE serial = ?", [serial]
        elif imei is not None:
            where, params = "WHERE imei = ?", [imei]
        columns = (
            "id, at, kind, actor, serial, imei, inputs, rule, policy_version, status, reason,"
            " sequence, detail"
        )
        with self._readers.snapshot() as db:
            if after_id is not None:
                clause = f"{where} {'AND' if where else 'WHERE'} id > ?"
                rows = db.execute(
                    f"SELECT {columns} FROM audit {clause} ORDER BY id LIMIT ?",  # noqa: S608
                    (*params, after_id, limit),
                ).fetchall()
            else:
                rows = db.execute(
                    f"SELECT {columns} FROM audit {where} ORDER BY id DESC LIMIT ?",  # noqa: S608
                    (*params, limit),
                ).fetchall()
                rows.reverse()
        return [audit_row(row) for row in rows]

    def latest_time(self) -> float | None:
        """The latest time any record carries (None: no records), so time never runs back.

        Each column is the time of an event the server recorded on its own clock; a restart
        may not put the clock before any of them (``server_stub.datadir.clock``).
        """
        with self._readers.snapshot() as db:
            row = db.execute(
                "SELECT max(t) FROM ("
                " SELECT max(last_seen) AS t FROM devices"
                " UNION ALL SELECT max(at) FROM audit"
                " UNION ALL SELECT max(issued_at) FROM verdicts"
                " UNION ALL SELECT max(at) FROM pending_holds)"
            ).fetchone()
        return None if row[0] is None else float(row[0])

    def counts(self) -> dict[str, int]:
        """Rows per table (for health checks and for tests proving a rejection wrote nothing)."""
        with self._readers.snapshot() as db:
            return {t: db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608
