"""Provisioning a fleet: what 10,000 device identities cost, made four ways.

* per-device files: ``phone_sim.device.provisioning.provision``, the TUI's phone, four files
  each written atomically with two fsyncs;
* in memory, this process: key, identity and certificate (``fleet.kits.make_entry``);
* in memory, a process pool of two;
* read back from the fleet's identity cache.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from pathlib import Path

from phone_sim.device.provisioning import provision
from phone_sim.fleet.identities import FleetFactory
from phone_sim.fleet.kits import make_entry
from phone_sim.protocol.identity import Factory

from .common import BENCH_DATA, report


def run(devices: int = 2000, *, files: int = 300) -> dict[str, float]:
    factory_dir = BENCH_DATA / "factory"
    factory = Factory.open(factory_dir)
    per: dict[str, float] = {}
    with tempfile.TemporaryDirectory(dir=BENCH_DATA) as tmp:
        started = time.perf_counter()
        for i in range(files):
            provision(Path(tmp) / f"p{i}", factory, b"-", rng=random.Random(i))
        per["per-device files (TUI provisioning)"] = (time.perf_counter() - started) / files
        started = time.perf_counter()
        for i in range(devices):
            make_entry(factory, "Redmi Note 9", "MI", 99, i)
        per["in memory, one process"] = (time.perf_counter() - started) / devices
        pool = FleetFactory(
            factory_dir,
            Path(tmp),
            model="Redmi Note 9",
            market="MI",
            seed=99,
            use_cache=False,
            workers=2,
        )
        started = time.perf_counter()
        pool.generate(range(devices))
        per["in memory, pool of 2 processes"] = (time.perf_counter() - started) / devices
        cached = FleetFactory(factory_dir, Path(tmp), model="Redmi Note 9", market="MI", seed=98)
        cached.devices(devices)  # fills the cache
        again = FleetFactory(factory_dir, Path(tmp), model="Redmi Note 9", market="MI", seed=98)
        made = again.devices(devices)
        assert made.from_cache == devices
        per["read from the identity cache"] = made.seconds / devices
        shutil.rmtree(Path(tmp) / "fleet-cache", ignore_errors=True)
    report(
        f"provisioning ({devices:,} devices; files: {files})",
        [
            (how, f"{s * 1e6:.0f} us per device, {s * 10_000:.1f} s for 10,000")
            for how, s in per.items()
        ],
    )
    return {how: s * 1e6 for how, s in per.items()}
