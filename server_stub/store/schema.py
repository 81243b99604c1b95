"""The vendor database's schema and its migrations, one step per version.

``PRAGMA user_version`` holds the schema version. A new database runs every step in order; an
older one runs the steps it lacks, all in one transaction, so a failed migration leaves the file
as it was. A newer version than this code knows is refused rather than guessed at.

* Version 1 (issue #2): devices, activations, verdicts, nonces.
* Version 2 (issue #3): each device's decision memory (JSON, see ``server_stub.engine.decide``), holds
  placed on devices not seen yet, and the append-only audit log.
* Version 3 (issue #18): deliveries, when each lock and release reached its device (the verdict
  that carried it), seeded from the verdicts already sent.
* Version 4 (issue #18): accounts (passwords as scrypt hashes, never in clear), each device's
  binding to its account (Find Device, the account lock), wrong passwords (the attempt limits)
  and the device keys behind unblock codes (``server_stub.store.accounts``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

SCHEMA_VERSION = 4

V1: tuple[str, ...] = (
    """
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
    ) STRICT
    """,
    """
    CREATE TABLE activations (
        id INTEGER PRIMARY KEY,
        serial TEXT NOT NULL REFERENCES devices (serial),
        at INTEGER NOT NULL,
        sims TEXT NOT NULL,             -- JSON list of SIM reports
        nonce TEXT NOT NULL,
        decision TEXT NOT NULL          -- JSON: the policy decision and its evidence
    ) STRICT
    """,
    "CREATE INDEX activations_by_serial ON activations (serial, at)",
    """
    CREATE TABLE verdicts (
        serial TEXT NOT NULL REFERENCES devices (serial),
        sequence INTEGER NOT NULL,
        status TEXT NOT NULL,
        reason TEXT NOT NULL,
        policy_version TEXT NOT NULL,
        issued_at INTEGER NOT NULL,
        body BLOB NOT NULL,             -- the exact signed bytes sent to the phone
        PRIMARY KEY (serial, sequence)
    ) STRICT
    """,
    """
    CREATE TABLE nonces (
        nonce TEXT PRIMARY KEY,
        expires_at INTEGER NOT NULL
    ) STRICT
    """,
    "CREATE INDEX nonces_by_expiry ON nonces (expires_at)",
)

V2: tuple[str, ...] = (
    # The engine's DeviceMemory as JSON: activation SIMs, flags, hold, release, pardons.
    "ALTER TABLE devices ADD COLUMN memory TEXT NOT NULL DEFAULT '{}'",
    """
    CREATE TABLE pending_holds (
        target TEXT PRIMARY KEY,        -- a serial or IMEI named before the device was seen
        reason TEXT NOT NULL,
        message TEXT,
        at INTEGER NOT NULL
    ) STRICT
    """,
    """
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: an id is never reused
        at INTEGER NOT NULL,            -- server clock
        kind TEXT NOT NULL,             -- activation, checkin, lock, release, bulk-release, ...
        actor TEXT NOT NULL,            -- "device", "admin@<client address>", "startup"
        serial TEXT,
        imei TEXT,
        inputs TEXT NOT NULL,           -- JSON: what the decision or action was given
        rule TEXT NOT NULL,             -- which rule decided, e.g. "embargo:activation:home"
        policy_version TEXT NOT NULL,
        status TEXT,                    -- the verdict's status, if there was one
        reason TEXT,
        sequence INTEGER,
        detail TEXT NOT NULL            -- JSON: the evidence (flags, lock due, ...)
    ) STRICT
    """,
    "CREATE INDEX audit_by_serial ON audit (serial, id)",
    # Append-only, enforced by the database itself and not just by the code that writes it.
    """
    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
    """,
    """
    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END
    """,
)

V3: tuple[str, ...] = (
    # One row per change of a device's status to or from "locked": the verdict that told it.
    # A lock or release decided and not yet told is pending, which the engine works out from the
    # device's memory (what it was last told); this table remembers when each one arrived.
    """
    CREATE TABLE deliveries (
        serial TEXT NOT NULL REFERENCES devices (serial),
        sequence INTEGER NOT NULL,      -- the verdict that carried it
        kind TEXT NOT NULL,             -- 'lock' or 'release'
        reason TEXT NOT NULL,           -- that verdict's reason
        decided_at INTEGER,             -- when it was decided (null: not known)
        delivered_at INTEGER NOT NULL,  -- server clock: that verdict's issued_at
        PRIMARY KEY (serial, sequence)
    ) STRICT
    """,
)

V4: tuple[str, ...] = (
    """
    CREATE TABLE accounts (
        name TEXT PRIMARY KEY,          -- lower case, as the wire carries it
        kdf TEXT NOT NULL,              -- how password_hash was made: "scrypt:16384:8:1"
        salt BLOB NOT NULL,             -- 16 random bytes of its own
        password_hash BLOB NOT NULL,    -- never the password itself
        created_at INTEGER NOT NULL
    ) STRICT
    """,
    """
    CREATE TABLE account_bindings (
        serial TEXT PRIMARY KEY REFERENCES devices (serial),
        account TEXT NOT NULL REFERENCES accounts (name),
        find_device INTEGER NOT NULL,   -- 1: a factory reset engages the account lock
        bound_at INTEGER NOT NULL,
        locked_at INTEGER               -- the account lock holds since; NULL: it does not
    ) STRICT
    """,
    "CREATE INDEX account_bindings_by_account ON account_bindings (account)",
    """
    CREATE TABLE password_failures (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,          -- the account a wrong password was given for
        serial TEXT NOT NULL,           -- by this device
        at INTEGER NOT NULL
    ) STRICT
    """,
    "CREATE INDEX password_failures_by_account ON password_failures (account, at)",
    "CREATE INDEX password_failures_by_serial ON password_failures (serial, at)",
    """
    CREATE TABLE device_keys (
        serial TEXT PRIMARY KEY REFERENCES devices (serial),
        public_key TEXT NOT NULL,       -- SubjectPublicKeyInfo DER, base64, as certified
        since INTEGER NOT NULL          -- its first version 2 verdict (the agreement key)
    ) STRICT
    """,
)

TABLES = (
    "devices",
    "activations",
    "verdicts",
    "nonces",
    "pending_holds",
    "audit",
    "deliveries",
    "accounts",
    "account_bindings",
    "password_failures",
    "device_keys",
)


def _run(statements: tuple[str, ...]) -> Callable[[sqlite3.Connection], None]:
    def step(db: sqlite3.Connection) -> None:
        for statement in statements:
            db.execute(statement)

    return step


def _to_v2(db: sqlite3.Connection) -> None:
    _run(V2)(db)
    # Issue #2 locked at activation. Seed each device's memory from its first activation so that
    # a lock already delivered stays in force (an enforced flag), whatever delay the policy now
    # sets, and so that the activation territory sticks as it will for new devices.
    devices = db.execute("SELECT serial, status, last_seen FROM devices").fetchall()
    for serial, status, last_seen in devices:
        rows = db.execute(
            "SELECT at, sims, decision FROM activations WHERE serial = ? ORDER BY id", (serial,)
        ).fetchall()
        if not rows:
            continue
        first_at, first_sims, first_decision = rows[0]
        memory: dict[str, Any] = {
            "activation_sims": json.loads(first_sims),
            "activated_at": first_at,
            "last_sims": json.loads(rows[-1][1]),
            "flags": [],
            "last_status": status,
            "last_contact": last_seen,
        }
        decision = json.loads(first_decision)
        if decision.get("status") == "locked" and decision.get("network"):
            data = str(decision.get("rule", "embargo:home")).rpartition(":")[2]
            memory["flags"].append(
                {
                    "source": "activation",
                    "territory": decision.get("territory") or "unknown",
                    "network": decision["network"],
                    "slot": decision.get("slot") or 1,
                    "data": data if data in ("home", "serving") else "home",
                    "since": first_at,
                    "enforced_at": first_at,
                }
            )
        db.execute(
            "UPDATE devices SET memory = ? WHERE serial = ?",
            (json.dumps(memory, sort_keys=True), serial),
        )


def _to_v3(db: sqlite3.Connection) -> None:
    _run(V3)(db)
    # Every lock and release already sent is delivered, at the verdict that carried it: each
    # verdict whose status went to or from "locked". When each was decided was not kept.
    previous: dict[str, str] = {}
    rows = db.execute(
        "SELECT serial, sequence, status, reason, issued_at FROM verdicts ORDER BY serial, sequence"
    ).fetchall()
    for serial, sequence, status, reason, issued_at in rows:
        before = previous.get(serial)
        previous[serial] = status
        if status == before or "locked" not in (status, before):
            continue
        db.execute(
            "INSERT INTO deliveries (serial, sequence, kind, reason, decided_at, delivered_at)"
            " VALUES (?, ?, ?, ?, NULL, ?)",
            (serial, sequence, "lock" if status == "locked" else "release", reason, issued_at),
        )


#: Step n takes a database at version n - 1 to version n.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _run(V1),
    2: _to_v2,
    3: _to_v3,
    4: _run(V4),
}
