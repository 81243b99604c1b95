"""Benchmark 3: does the store slow down as it fills? Activation p99 at 1,000 vs 1,000,000 devices.

Each store is seeded directly in SQLite (batched inserts, not HTTP): one real activation is made
through the server, and its rows (device, activation, verdict, audit entry) are cloned for every
other device with its own serial, IMEIs and nonce, so the tables and their indexes hold what a
server that had really seen that many devices would hold. Seeded stores are kept under
``BENCH_DATA/stores`` and copied for each run. (The nonce table is not seeded: it holds an hour
of requests, whatever the number of devices.) Then the same new devices activate one at a time
against both stores, served side by side and asked in turn (A, B, A, B...), so that both see
the same machine. Target: p99 ratio at most 1.5.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from phone_sim.fleet.identities import factory_id
from phone_sim.fleet.server import ChildServer
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.imei import make_imei
from server_stub.store.schema import SCHEMA_VERSION

from .common import (
    BENCH_DATA,
    NOOP_HOOK,
    Latencies,
    bench_server,
    bench_servers,
    kits,
    new_phone,
    report,
    round_trip,
    session,
)

SMALL = 1_000
BEFORE_CHECKPOINTS = "bench.noop:install_before_checkpoints"
BATCH = 50_000
TAC = "86010505"


def _template_store(kept: Path) -> Path:
    """A vendor directory holding one real activation (made once, then kept): every seeded
    store starts as a copy of it."""
    if not (kept / "ready").exists():
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir(parents=True)
        kit = kits(1, seed=4)[0]
        with bench_server(store=kept) as server:
            round_trip(new_phone(kit, server, "Telekom"), kit, server, session())
        (kept / "ready").touch()
    return kept


def _template_rows(directory: Path) -> dict[str, tuple[Any, ...]]:
    """The one activation's rows, to clone."""
    with sqlite3.connect(directory / "vendor.db") as db:
        return {
            table: db.execute(f"SELECT * FROM {table}").fetchone()
            for table in ("devices", "activations", "verdicts", "audit")
        }


def _swap(text: str, old: list[str], new: list[str]) -> str:
    for a, b in zip(old, new, strict=True):
        text = text.replace(a, b)
    return text


def _seed(directory: Path, devices: int, template: Path) -> float:
    started = time.perf_counter()
    shutil.copytree(template, directory, ignore=shutil.ignore_patterns("ready"), dirs_exist_ok=True)
    rows = _template_rows(directory)
    serial0 = rows["devices"][0]
    imeis0 = json.loads(rows["devices"][1])
    old = [serial0, *imeis0]
    db = sqlite3.connect(directory / "vendor.db", isolation_level=None)
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -1048576")  # 1 GiB while seeding: random keys everywhere
    for start in range(1, devices, BATCH):
        batch = range(start, min(devices, start + BATCH))
        new = []
        for i in batch:
            # Random-looking serials, as real ones are: the indexes fill as they would.
            serial = hashlib.sha256(f"seed:{i}".encode()).hexdigest()[:12].upper()
            new.append(
                (serial, make_imei(TAC, 2 * i % 999_998), make_imei(TAC, (2 * i + 1) % 999_998))
            )
        db.execute("BEGIN")
        db.executemany(
            "INSERT INTO devices VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(n[0], json.dumps(list(n[1:])), *rows["devices"][2:]) for n in new],
        )
        a = rows["activations"]
        db.executemany(
            "INSERT INTO activations (serial, at, sims, nonce, decision) VALUES (?,?,?,?,?)",
            [(n[0], a[2], a[3], f"seed-nonce-{n[0]}", a[5]) for n in new],
        )
        v = rows["verdicts"]
        db.executemany(
            "INSERT INTO verdicts VALUES (?,?,?,?,?,?,?)",
            [(n[0], *v[1:6], _swap(v[6].decode(), old, list(n)).encode()) for n in new],
        )
        u = rows["audit"]
        db.executemany(
            "INSERT INTO audit (at, kind, actor, serial, imei, inputs, rule, policy_version,"
            " status, reason, sequence, detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            [(u[1], u[2], u[3], n[0], n[1], _swap(u[6], old, list(n)), *u[7:]) for n in new],
        )
        db.execute("COMMIT")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return time.perf_counter() - started


def seeded_store(devices: int) -> tuple[Path, str]:
    """A vendor directory whose store knows ``devices`` devices (made once, then kept)."""
    factory = Factory.open(BENCH_DATA / "factory")
    prefix = BENCH_DATA / "stores" / f"v{SCHEMA_VERSION}-{factory_id(factory)}"
    kept = prefix.with_name(f"{prefix.name}-{devices}")
    note = "kept from an earlier run"
    if not (kept / "ready").exists():
        shutil.rmtree(kept, ignore_errors=True)
        kept.mkdir(parents=True)
        template = _template_store(prefix.with_name(f"{prefix.name}-template"))
        note = f"seeded in {_seed(kept, devices, template):.0f} s"
        (kept / "ready").touch()
    size = (kept / "vendor.db").stat().st_size / 2**20
    return kept, f"{note}, {size:.0f} MiB"


def _measure(kept: list[tuple[Path, str]], requests_: int, warm_ups: int) -> list[Latencies]:
    """Activations against each store in turn (A, B, A, B...), so all see the same noise."""
    with tempfile.TemporaryDirectory(dir=BENCH_DATA) as tmp:
        configs: list[tuple[Path | None, str]] = []
        for i, (directory, hook) in enumerate(kept):
            store = Path(tmp) / f"vendor-{i}"
            shutil.copytree(directory, store)
            configs.append((store, hook))
        with bench_servers(configs) as servers:
            return _activate_in_turn(servers, requests_, warm_ups)


def _activate_in_turn(servers: list[ChildServer], requests_: int, warm_ups: int) -> list[Latencies]:
    devices = kits(requests_ + warm_ups, seed=3)
    http = session()
    for server in servers:
        for kit in devices[requests_:]:  # warm-up
            round_trip(new_phone(kit, server), kit, server, http)
    values: list[list[float]] = [[] for _ in servers]
    started = time.perf_counter()
    for kit in devices[:requests_]:
        for server, out in zip(servers, values, strict=True):
            out.append(round_trip(new_phone(kit, server), kit, server, http))
    seconds = (time.perf_counter() - started) / len(servers)
    return [Latencies(v, seconds) for v in values]


def run(large: int = 1_000_000, requests_: int = 2000, *, warm_ups: int = 50) -> dict[str, float]:
    small_dir, small_note = seeded_store(SMALL)
    large_dir, large_note = seeded_store(large)
    small, big, before = _measure(
        [(small_dir, NOOP_HOOK), (large_dir, NOOP_HOOK), (large_dir, BEFORE_CHECKPOINTS)],
        requests_,
        warm_ups,
    )
    ratio = big.q(0.99) / small.q(0.99)
    report(
        f"3. store scale: activation with {SMALL:,} vs {large:,} devices known",
        [
            (f"{SMALL:,} devices", f"{small.summary()}; store {small_note}"),
            (f"{large:,} devices", f"{big.summary()}; store {large_note}"),
            ("p50 ratio", f"{big.q(0.5) / small.q(0.5):.2f}"),
            ("p99 ratio", f"{ratio:.2f} (target <= 1.5)"),
            (
                f"{large:,}, checkpoints in requests",
                f"{before.summary()} (before the checkpointer)",
            ),
            ("p99 ratio before", f"{before.q(0.99) / small.q(0.99):.2f}"),
        ],
    )
    return {
        "small_p99_ms": small.q(0.99) * 1000,
        "large_p99_ms": big.q(0.99) * 1000,
        "ratio": ratio,
    }
