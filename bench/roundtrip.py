"""Benchmark 1: one activation round trip on loopback, beside a no-op on the same stack.

The device signs, the server verifies the chain and the signature, decides, stores and signs,
the device verifies and judges: timed from the phone's side, one request at a time (no queueing),
against a server in its own process. Then the same client posts an activation-sized body to
``/bench/noop`` on the same server, in the same run. Also the check-in round trip of a device the
server has seen (its chain is in the verified-chain cache).
"""

from __future__ import annotations

import time

from .common import Latencies, bench_server, kits, new_phone, noop_body, report, round_trip, session
from .noop import NOOP_PATH


def run(requests_: int = 1000, *, warm_ups: int = 50) -> dict[str, float]:
    devices = kits(requests_)
    with bench_server() as server:
        http = session()
        # Warm-up: imports, first connection, code paths.
        warm = kits(requests_ + warm_ups)[requests_:]
        for kit in warm:
            round_trip(new_phone(kit, server), kit, server, http)
        phones = [new_phone(kit, server) for kit in devices]
        started = time.perf_counter()
        activation = [round_trip(p, k, server, http) for p, k in zip(phones, devices, strict=True)]
        activation_l = Latencies(activation, time.perf_counter() - started)
        for phone in phones:
            phone.retry()
        started = time.perf_counter()
        checkin = [round_trip(p, k, server, http) for p, k in zip(phones, devices, strict=True)]
        checkin_l = Latencies(checkin, time.perf_counter() - started)
        body = noop_body(devices[0], server)
        url = server.url + NOOP_PATH
        headers = {"Content-Type": "application/json"}
        noop: list[float] = []
        started = time.perf_counter()
        for _ in range(requests_):
            t = time.perf_counter()
            answer = http.post(url, data=body, headers=headers)
            answer.raise_for_status()
            noop.append(time.perf_counter() - t)
        noop_l = Latencies(noop, time.perf_counter() - started)
    report(
        "1. activation round trip on loopback (one at a time)",
        [
            ("activation", activation_l.summary()),
            ("check-in (chain cached)", checkin_l.summary()),
            ("no-op, same stack", noop_l.summary()),
            ("activation / no-op p50", f"{activation_l.q(0.5) / noop_l.q(0.5):.1f}x"),
            ("activation / no-op p99", f"{activation_l.q(0.99) / noop_l.q(0.99):.1f}x"),
        ],
    )
    return {
        "activation_p50_ms": activation_l.q(0.5) * 1000,
        "activation_p99_ms": activation_l.q(0.99) * 1000,
        "checkin_p50_ms": checkin_l.q(0.5) * 1000,
        "checkin_p99_ms": checkin_l.q(0.99) * 1000,
        "noop_p50_ms": noop_l.q(0.5) * 1000,
        "noop_p99_ms": noop_l.q(0.99) * 1000,
    }
