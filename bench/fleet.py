"""Benchmark 4: a fleet of 10,000 devices activates and checks in once.

``phone-sim fleet`` runs in its own process, as a user would run it (its server in a child
process), with the identity cache warm (benchmark ``provisioning`` measures the cold case), 64
requests in flight (the command's own default is 8, for the latency one user sees: at 64 the
server's batches carry more and 100,000 devices take about a third less time;
docs/decisions/fleet-benchmark-at-64-in-flight.md).
Targets on a 2-core machine: 10,000 devices under 60 s, zero errors, peak RSS under 1 GiB
(issue #6); 100,000 under 4 minutes, zero errors, peak RSS of all processes under 2 GiB
(issue #17: ``--fleet-devices 100000``).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from phone_sim.fleet.identities import FleetFactory

from .common import BENCH_DATA, FLEET_CONCURRENCY, report


def targets(devices: int) -> tuple[float, float]:
    """The wall time (s) and peak RSS (MiB) targets for ``devices``: issue #17's from 100,000."""
    return (240.0, 2048.0) if devices >= 100_000 else (60.0, 1024.0)


def run(devices: int = 10_000, concurrency: int = FLEET_CONCURRENCY) -> dict[str, float]:
    # Warm the cache the fleet will read (seed 0, the fleet's default), building no device here:
    # a process started from this one reports at least this one's RSS as its peak (Linux
    # carries the high-water mark across exec), so 10,000 kits here would show in the fleet's.
    FleetFactory(
        BENCH_DATA / "factory", BENCH_DATA, model="Redmi Note 9", market="MI", seed=0
    ).devices(devices, build=False)
    with tempfile.TemporaryDirectory(dir=BENCH_DATA) as tmp:
        out = Path(tmp) / "fleet.json"
        command = [
            sys.executable, "-m", "phone_sim.cli", "--data", str(BENCH_DATA), "fleet",
            "--devices", str(devices), "--concurrency", str(concurrency), "--checkins", "1",
            "--json", str(out), "--quiet",
        ]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        wall = time.perf_counter() - started
        if not out.exists():
            raise RuntimeError(f"phone-sim fleet failed ({done.returncode}):\n{done.stderr}")
        figures = json.loads(out.read_text())
    errors = sum(figures["errors"].values())
    fleet_rss = figures["peak_rss_kib"] / 1024
    server_rss = (figures["server_peak_rss_kib"] or 0) / 1024
    latency = figures["latency_ms"]
    quantiles = ", ".join(f"{q} {latency[q]:.1f} ms" for q in ("p50", "p95", "p99"))
    rss = f"fleet {fleet_rss:.0f} MiB + server {server_rss:.0f} MiB"
    processes = f"phones {figures['processes']}, server {len(figures['server_requests']) or 1}"
    cpu = f"fleet {figures['cpu_seconds']:.1f} s, server {figures['server_cpu_seconds'] or 0:.1f} s"
    wall_target, rss_target = targets(devices)
    report(
        f"4. fleet: {devices:,} devices activate and check in once (concurrency {concurrency})",
        [
            (
                "wall time",
                f"{wall:.1f} s, process start to exit (target < {wall_target:.0f} s: "
                f"{wall / wall_target:.2f} of it)",
            ),
            ("requests", f"{figures['requests']:,}, {figures['requests_per_second']:.0f}/s"),
            ("latency", quantiles),
            ("errors", f"{errors} (target 0) {figures['errors'] or ''}".strip()),
            ("devices", ", ".join(f"{n} {s}" for s, n in figures["states"].items())),
            (
                "peak RSS",
                f"{rss} = {fleet_rss + server_rss:.0f} MiB (target < {rss_target:.0f}: "
                f"{(fleet_rss + server_rss) / rss_target:.2f} of it)",
            ),
            ("CPU", cpu),
            ("processes", processes),
        ],
    )
    return {
        "wall_s": wall,
        "errors": errors,
        "peak_rss_mib": fleet_rss + server_rss,
        "phone_processes": figures["processes"],
    }
