"""The vendor's records in one SQLite file: devices, activations, verdicts and seen nonces.

One connection guarded by a lock: uvicorn runs sync endpoints in a thread pool, and SQLite
serialises writers anyway, so a single connection costs nothing and keeps transactions simple.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from phone_sim.protocol.errors import ReplayedNonce

from .errors import StoreError

SCHEMA_VERSION = 1
TABLES = ("devices", "activations", "verdicts", "nonces")

_SCHEMA = """
CREATE TABLE devices (
    serial TEXT PRIMARY KEY,
    imeis TEXT NOT NULL,            -- JSON list, as certified
    model TEXT NOT NULL,
    market TEXT NOT NULL,
    first_seen INTEGER NOT NULL,    -- Unix seconds, server clock
    last_seen INTEGER NOT NULL,
    status TEXT NOT NULL,           -- the latest verdict's status
    reason TEXT NOT NULL,
    last_sequence INTEGER NOT NULL  -- the latest verdict's sequence number
) STRICT;
CREATE TABLE activations (
    id INTEGER PRIMARY KEY,
    serial TEXT NOT NULL REFERENCES devices (serial),
    at INTEGER NOT NULL,
    sims TEXT NOT NULL,             -- JSON list of SIM reports
    nonce TEXT NOT NULL,
    decision TEXT NOT NULL          -- JSON: the policy decision and its evidence
) STRICT;
CREATE INDEX activations_by_serial ON activations (serial, at);
CREATE TABLE verdicts (
    serial TEXT NOT NULL REFERENCES devices (serial),
    sequence INTEGER NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    body BLOB NOT NULL,             -- the exact signed bytes sent to the phone
    PRIMARY KEY (serial, sequence)
) STRICT;
CREATE TABLE nonces (
    nonce TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
) STRICT;
CREATE INDEX nonces_by_expiry ON nonces (expires_at);
"""


@dataclass(frozen=True)
class ActivationRecord:
    """Everything an accepted activation writes, except the sequence the store allocates."""

    serial: str
    imeis: tuple[str, ...]
    model: str
    market: str
    sims: Sequence[Mapping[str, Any]]
    nonce: str
    at: int
    nonce_expires_at: int
    status: str
    reason: str
    policy_version: str
    decision: Mapping[str, Any]


@dataclass(frozen=True)
class DeviceRow:
    serial: str
    imeis: tuple[str, ...]
    model: str
    market: str
    first_seen: int
    last_seen: int
    status: str
    reason: str
    last_sequence: int


@dataclass(frozen=True)
class VerdictRow:
    serial: str
    sequence: int
    status: str
    reason: str
    policy_version: str
    issued_at: int
    body: bytes


class Store:
    """The server's database. Thread-safe; every write is one transaction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # Autocommit mode: transactions are opened explicitly with BEGIN IMMEDIATE, which
            # takes the write lock up front instead of failing half-way on an upgrade.
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode = WAL")
            # FULL, not WAL's usual NORMAL: a verdict the phone already holds must survive a
            # power cut, or the server could reissue its sequence number or forget its nonce
            # and accept a replay. Activations are rare, so the extra fsync is cheap.
            self._db.execute("PRAGMA synchronous = FULL")
            self._db.execute("PRAGMA foreign_keys = ON")
            # Another process (a future admin CLI) may hold the write lock for a moment.
            self._db.execute("PRAGMA busy_timeout = 5000")
            self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the vendor database: {exc}") from exc

    def _migrate(self) -> None:
        (version,) = self._db.execute("PRAGMA user_version").fetchone()
        if version == SCHEMA_VERSION:
            return
        if version != 0:
            raise StoreError(f"{self.path}: schema version {version} is not {SCHEMA_VERSION}")
        with self._transaction() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- writes ----------------------------------------------------------------------------

    def record_activation(self, record: ActivationRecord, render: Callable[[int], bytes]) -> int:
        """Reserve the nonce, allocate the device's next sequence and record it all, atomically.

        ``render(sequence)`` returns the verdict body to keep; it runs inside the transaction, so
        if it raises nothing is written. Returns the sequence.

        Raises:
            ReplayedNonce: the nonce was already used (and has not expired); nothing is written.
        """
        with self._lock, self._transaction() as db:
            # Pruning here keeps the table bounded by the requests of one nonce lifetime.
            db.execute("DELETE FROM nonces WHERE expires_at <= ?", (record.at,))
            try:
                db.execute(
                    "INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)",
                    (record.nonce, record.nonce_expires_at),
                )
            except sqlite3.IntegrityError:
                raise ReplayedNonce("this request nonce was already used") from None
            row = db.execute(
                "SELECT last_sequence FROM devices WHERE serial = ?", (record.serial,)
            ).fetchone()
            sequence = (row[0] if row else 0) + 1
            db.execute(
                """
                INSERT INTO devices (serial, imeis, model, market, first_seen, last_seen,
                                     status, reason, last_sequence)
                VALUES (:serial, :imeis, :model, :market, :at, :at, :status, :reason, :sequence)
                ON CONFLICT (serial) DO UPDATE SET
                    imeis = excluded.imeis, model = excluded.model, market = excluded.market,
                    last_seen = excluded.last_seen, status = excluded.status,
                    reason = excluded.reason, last_sequence = excluded.last_sequence
                """,
                {
                    "serial": record.serial,
                    "imeis": json.dumps(list(record.imeis)),
                    "model": record.model,
                    "market": record.market,
                    "at": record.at,
                    "status": record.status,
                    "reason": record.reason,
                    "sequence": sequence,
                },
            )
            db.execute(
                "INSERT INTO activations (serial, at, sims, nonce, decision)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    record.serial,
                    record.at,
                    json.dumps(list(record.sims), sort_keys=True),
                    record.nonce,
                    json.dumps(record.decision, sort_keys=True),
                ),
            )
            body = render(sequence)
            db.execute(
                "INSERT INTO verdicts (serial, sequence, status, reason, policy_version,"
                " issued_at, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    record.serial,
                    sequence,
                    record.status,
                    record.reason,
                    record.policy_version,
                    record.at,
                    body,
                ),
            )
            return sequence

    # --- reads -----------------------------------------------------------------------------

    def nonce_seen(self, nonce: str, *, now: int) -> bool:
        """True if ``nonce`` was used and is still remembered (a cheap check before deciding)."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM nonces WHERE nonce = ? AND expires_at > ?", (nonce, now)
            ).fetchone()
        return row is not None

    def device(self, serial: str) -> DeviceRow | None:
        with self._lock:
            row = self._db.execute(
                "SELECT serial, imeis, model, market, first_seen, last_seen, status, reason,"
                " last_sequence FROM devices WHERE serial = ?",
                (serial,),
            ).fetchone()
        if row is None:
            return None
        return DeviceRow(row[0], tuple(json.loads(row[1])), *row[2:])

    def verdicts(self, serial: str) -> list[VerdictRow]:
        """The device's verdicts, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT serial, sequence, status, reason, policy_version, issued_at, body"
                " FROM verdicts WHERE serial = ? ORDER BY sequence",
                (serial,),
            ).fetchall()
        return [VerdictRow(*row) for row in rows]

    def activations(self, serial: str) -> list[dict[str, Any]]:
        """The device's accepted activation requests, oldest first, with their decisions."""
        with self._lock:
            rows = self._db.execute(
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

    def counts(self) -> dict[str, int]:
        """Rows per table (for health checks and for tests proving a rejection wrote nothing)."""
        with self._lock:
            return {t: self._db.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608

    def pragma(self, name: str) -> Any:
        """Read a PRAGMA (``journal_mode``, ``synchronous``...)."""
        if not name.isidentifier():
            raise ValueError(f"not a pragma name: {name!r}")
        with self._lock:
            return self._db.execute(f"PRAGMA {name}").fetchone()[0]
