"""``python -m bench [NAME...]``: run the benchmarks (all by default) and print their figures.

Names: provisioning, roundtrip, throughput, serve, store, fleet, tui, optimisations.
``--quick`` runs smaller sizes (a smoke run; the figures in docs/PERFORMANCE.md are from full
runs). Nothing here is a test: the targets are printed beside the figures, never asserted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .common import BENCH_DATA, machine


def _benchmarks(args: argparse.Namespace) -> dict[str, Callable[[], dict[str, Any]]]:
    quick = args.quick

    def load(name: str) -> Any:
        return importlib.import_module(f"bench.{name}")

    return {
        "provisioning": lambda: load("provisioning").run(500 if quick else 10_000),
        "roundtrip": lambda: load("roundtrip").run(200 if quick else 1000),
        "throughput": lambda: load("throughput").run(seconds=3 if quick else 10),
        "serve": lambda: load("serve").run(seconds=3 if quick else 10),
        "store": lambda: load("store_scale").run(
            args.store_devices or (20_000 if quick else 1_000_000), 300 if quick else 2000
        ),
        "fleet": lambda: load("fleet").run(
            args.fleet_devices or (1000 if quick else 10_000), args.concurrency
        ),
        "tui": lambda: load("tui").run(quick=quick),
        "optimisations": lambda: load("optimisations").run(
            100 if quick else 200, 2 if quick else 5
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
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
