"""Benchmark 2b: ``vendor-server serve --workers 1`` against ``--workers 2``, under activations.

Benchmark 2's load (pre-signed first activations, wrk or the Python load generator) against the
command an operator runs, not the fleet's embedded server: its access log on (to a file), on a
frozen simulated clock (``--speed 0 --start``), so with two processes every request also checks
the shared clock's and policy's files (``server_stub.datadir.shared``).
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from phone_sim.protocol.clock import STORY_START, FixedClock
from phone_sim.protocol.identity import Factory
from server_stub.runtime.processes import can_share_port

from .common import BENCH_DATA, report
from .throughput import activations_under_load, load_tool, pool_size, signed_activations

SERVE = "from server_stub.cli import entry; raise SystemExit(entry())"  # the console script


@dataclass
class Served:
    """What benchmark 2's helpers need of a server: where, its time, its processes."""

    url: str
    pids: list[int]
    clock: FixedClock = field(default_factory=lambda: FixedClock(STORY_START))


@contextmanager
def served(workers: int) -> Iterator[Served]:
    Factory.open(BENCH_DATA / "factory")
    scratch = Path(tempfile.mkdtemp(prefix="serve-", dir=BENCH_DATA))
    log = scratch / "serve.out"
    command = [sys.executable, "-c", SERVE, "serve", "--port", "0", "--data", str(scratch / "v")]
    command += ["--factory-root", str(BENCH_DATA / "factory" / "root.pem")]
    command += ["--speed", "0", "--start", str(int(STORY_START)), "--workers", str(workers)]
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL)
    try:
        last = "simulated clock:" if workers == 1 else f"{workers} processes"
        deadline = time.monotonic() + 60
        while last not in (printed := log.read_text()):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"vendor-server serve did not start:\n{printed}")
            time.sleep(0.05)
        url = printed.split("\n", 1)[0].rsplit(" ", 1)[1]
        match = re.search(r"\(pids ([\d, ]+)\)", printed)
        pids = [int(p) for p in match.group(1).split(", ")] if match else [process.pid]
        yield Served(url, pids)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(30)
        shutil.rmtree(scratch, ignore_errors=True)


def run(seconds: float = 10) -> dict[str, float]:
    figures: dict[str, float] = {}
    for workers in (1, 2) if can_share_port() else (1,):
        with served(workers) as server:
            signed = signed_activations(server, pool_size(seconds))
            activation = activations_under_load(server, signed, seconds)
        rate = activation["ok"] / activation["seconds"]
        problems = int(activation["other"] + activation["errors"] + activation.get("ran_out", 0))
        report(
            f"2b. vendor-server serve --workers {workers}, activations under load",
            [
                ("load", load_tool(seconds)),
                ("activations", f"{rate:.0f}/s"),
                ("server CPU per activation", f"{activation['cpu_us']:.0f} us"),
                ("refused or failed", f"{problems} of {int(activation['ok']) + problems}"),
            ],
        )
        figures |= {
            f"activations_per_s_{workers}_workers": rate,
            f"activation_cpu_us_{workers}_workers": activation["cpu_us"],
        }
    return figures
