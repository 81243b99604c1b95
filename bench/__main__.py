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
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Sizes:
    #: devices made in memory, by a pool and from the cache (benchmark ``provisioning``)
    provisioning: int
    #: phones provisioned as files (four files, two fsyncs each)
    provisioning_files: int
    round_trips: int
    #: round trips before the timed ones (``roundtrip``, ``store``)
    warm_ups: int
    #: each load of benchmark 2 (wrk counts whole seconds: it loads at least one)
    load_seconds: float
    #: calls per in-process timing (the crypto floor; the profile's stages take a quarter)
    in_process_calls: int
    store_devices: int
    store_requests: int
    fleet_devices: int
    tui_launches: int
    #: shipped scenarios in the headless suite, in library order; None: all of them
    scenarios: int | None
    optimisation_round_trips: int
    optimisation_seconds: float
    #: pytest tests of the Cubacel story in one run (benchmark ``worlds``)
    world_tests: int


#: the figures in docs/PERFORMANCE.md; a quicker look; the smallest run that exercises every
#: part (the test suite runs it, so that no benchmark rots unnoticed: no warm-up, fractions of a
#: second of load, one scenario, one server shared by the parts that start the same one, the
#: parts side by side; bench/smoke.py checks what they report)
SIZES = {
    "full": Sizes(
        provisioning=10_000, provisioning_files=300, round_trips=1000, warm_ups=50,
        load_seconds=10, in_process_calls=2000, store_devices=1_000_000, store_requests=2000,
        fleet_devices=10_000, tui_launches=3, scenarios=None,
        optimisation_round_trips=200, optimisation_seconds=5, world_tests=100,
    ),
    "quick": Sizes(
        provisioning=500, provisioning_files=300, round_trips=200, warm_ups=50,
        load_seconds=3, in_process_calls=2000, store_devices=20_000, store_requests=300,
        fleet_devices=1000, tui_launches=1, scenarios=None,
        optimisation_round_trips=100, optimisation_seconds=2, world_tests=30,
    ),
    "smoke": Sizes(
        provisioning=50, provisioning_files=10, round_trips=20, warm_ups=0,
        load_seconds=0.25, in_process_calls=100, store_devices=2000, store_requests=30,
        fleet_devices=20, tui_launches=1, scenarios=1,
        optimisation_round_trips=10, optimisation_seconds=0.1, world_tests=3,
    ),
}  # fmt: skip


#: the parts that take longest, started first when parts run side by side
LONGEST_FIRST = ("optimisations", "tui", "serve")


def _size(args: argparse.Namespace) -> Sizes:
    return SIZES["smoke" if args.smoke else "quick" if args.quick else "full"]


def _fill_the_shared_cache(size: Sizes) -> None:
    """Make every device the parts take from the benchmarks' shared identity cache.

    Parts side by side would otherwise each add the devices they lack and rewrite the cache
    while another reads it, and two parts could hold different keys and certificates for one
    device, both sent to the one shared server.
    """
    from .common import kits
    from .throughput import pool_size

    kits(
        max(
            size.round_trips + size.warm_ups,
            size.optimisation_round_trips + 1,
            pool_size(size.load_seconds),
            pool_size(size.optimisation_seconds),
        )
    )


def _one_after_another(
    parts: dict[str, Callable[[], dict[str, Any]]],
) -> Iterator[tuple[str, dict[str, Any], float]]:
    for name, part in parts.items():
        started = time.perf_counter()
        figures = part()
        yield name, figures, time.perf_counter() - started


def _benchmarks(args: argparse.Namespace) -> dict[str, Callable[[], dict[str, Any]]]:
    size = _size(args)

    def load(name: str) -> Any:
        return importlib.import_module(f"bench.{name}")

    return {
        "provisioning": lambda: load("provisioning").run(
            size.provisioning, files=size.provisioning_files
        ),
        "roundtrip": lambda: load("roundtrip").run(size.round_trips, warm_ups=size.warm_ups),
        "throughput": lambda: load("throughput").run(
            seconds=size.load_seconds, calls=size.in_process_calls
        ),
        "serve": lambda: load("serve").run(seconds=size.load_seconds),
        "store": lambda: load("store_scale").run(
            args.store_devices or size.store_devices, size.store_requests, warm_ups=size.warm_ups
        ),
        "fleet": lambda: load("fleet").run(
            args.fleet_devices or size.fleet_devices, args.concurrency
        ),
        "tui": lambda: load("tui").run(launches=size.tui_launches, scenarios=size.scenarios),
        "optimisations": lambda: load("optimisations").run(
            size.optimisation_round_trips,
            size.optimisation_seconds,
            calls=size.in_process_calls // 4,
        ),
        "worlds": lambda: load("worlds").run(size.world_tests),
    }


def main(argv: list[str] | None = None) -> int:
    from .common import FLEET_CONCURRENCY

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME")
    parser.add_argument("--quick", action="store_true", help="small sizes: a first look")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="the smallest sizes: checks that every part runs and reports every figure it "
        "promises (exit status 1 when one does not)",
    )
    parser.add_argument("--store-devices", type=int, help="devices in the large store")
    parser.add_argument("--fleet-devices", type=int, help="devices in the fleet benchmark")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=FLEET_CONCURRENCY,
        help="the fleet's concurrency (docs/decisions/fleet-benchmark-at-64-in-flight.md)",
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument(
        "--jobs",
        type=int,
        help="parts run side by side, this many at a time (default 1; with --smoke 3): "
        "they then measure each other, so only for checking that they run",
    )
    args = parser.parse_args(argv)
    # Imported here, not above: every process the benchmarks spawn (servers, load generators)
    # imports this module again first, and needs none of the benchmarks' own imports.
    from .common import BENCH_DATA, machine, sharing_the_default_server
    from .side_by_side import run_side_by_side

    benchmarks = _benchmarks(args)
    unknown = [n for n in args.names if n not in benchmarks]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(benchmarks)}")
    BENCH_DATA.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}")
    figures: dict[str, Any] = {"machine": machine()}
    parts = {name: benchmarks[name] for name in args.names or list(benchmarks)}
    jobs = args.jobs or (3 if args.smoke else 1)
    with sharing_the_default_server() if args.smoke else nullcontext():
        if jobs > 1:
            _fill_the_shared_cache(_size(args))
            done = run_side_by_side(parts, jobs, first=LONGEST_FIRST)
        else:
            done = _one_after_another(parts)
        for name, part_figures, seconds in done:
            figures[name] = part_figures
            print(f"  ({name}: {seconds:.1f} s)")
            sys.stdout.flush()
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    if args.smoke:
        from server_stub.runtime.processes import can_share_port

        from .smoke import problems

        wrong = problems(figures, parts, two_workers=can_share_port())
        for problem in wrong:
            print(f"python -m bench --smoke: {problem}", file=sys.stderr)
        return 1 if wrong else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
