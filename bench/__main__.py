"""``python -m bench [NAME...]``: run the benchmarks (all by default) and print their figures.

Names: provisioning, roundtrip, throughput, serve, store, fleet, tui, optimisations, worlds.
``--quick`` runs smaller sizes, ``--smoke`` the smallest (the figures in docs/PERFORMANCE.md are
from full runs). Nothing here is a test: the targets are printed beside the figures, never
asserted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .common import BENCH_DATA, machine


@dataclass(frozen=True)
class Sizes:
    provisioning: int
    round_trips: int
    load_seconds: int
    store_devices: int
    store_requests: int
    fleet_devices: int
    tui_launches: int
    optimisation_round_trips: int
    optimisation_seconds: int
    world_tests: int


#: the figures in docs/PERFORMANCE.md; a quicker look; the smallest run that exercises every
#: part (the test suite runs it, so that no benchmark rots unnoticed)
SIZES = {
    "full": Sizes(10_000, 1000, 10, 1_000_000, 2000, 10_000, 3, 200, 5, 100),
    "quick": Sizes(500, 200, 3, 20_000, 300, 1000, 1, 100, 2, 30),
    "smoke": Sizes(50, 20, 1, 2000, 30, 100, 1, 10, 1, 3),
}


def _benchmarks(args: argparse.Namespace) -> dict[str, Callable[[], dict[str, Any]]]:
    size = SIZES["smoke" if args.smoke else "quick" if args.quick else "full"]

    def load(name: str) -> Any:
        return importlib.import_module(f"bench.{name}")

    return {
        "provisioning": lambda: load("provisioning").run(size.provisioning),
        "roundtrip": lambda: load("roundtrip").run(size.round_trips),
        "throughput": lambda: load("throughput").run(seconds=size.load_seconds),
        "serve": lambda: load("serve").run(seconds=size.load_seconds),
        "store": lambda: load("store_scale").run(
            args.store_devices or size.store_devices, size.store_requests
        ),
        "fleet": lambda: load("fleet").run(
            args.fleet_devices or size.fleet_devices, args.concurrency
        ),
        "tui": lambda: load("tui").run(launches=size.tui_launches),
        "optimisations": lambda: load("optimisations").run(
            size.optimisation_round_trips, size.optimisation_seconds
        ),
        "worlds": lambda: load("worlds").run(size.world_tests),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument("--quick", action="store_true", help="small sizes: a first look")
    parser.add_argument(
        "--smoke", action="store_true", help="the smallest sizes: checks that every part runs"
    )
    parser.add_argument("--store-devices", type=int, help="devices in the large store")
    parser.add_argument("--fleet-devices", type=int, help="devices in the fleet benchmark")
    parser.add_argument("--concurrency", type=int, default=16, help="the fleet's concurrency")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    benchmarks = _benchmarks(args)
    unknown = [n for n in args.names if n not in benchmarks]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(benchmarks)}")
    BENCH_DATA.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    figures: dict[str, Any] = {"machine": machine()}
    for name in args.names or list(benchmarks):
        started = time.perf_counter()
        figures[name] = benchmarks[name]()
        print(f"  ({name}: {time.perf_counter() - started:.0f} s)")
        sys.stdout.flush()
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
