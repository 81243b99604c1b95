"""Every benchmark runs end to end at the smallest sizes (``python -m bench --smoke``).

The benchmarks are measurements, not tests (docs/PERFORMANCE.md), and nothing here compares a
time with a target. What this checks is that each part still runs against today's code and
reports every figure it promises, and the functional outcomes the figures stand on: the fleet
had no errors, every shipped scenario passed.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from phone_sim.scenario.library import listing

ROOT = Path(__file__).resolve().parents[2]
PARTS = (
    "provisioning",
    "roundtrip",
    "throughput",
    "serve",
    "store",
    "fleet",
    "tui",
    "optimisations",
    "worlds",
)


def _positive(figures: dict[str, Any], *names: str) -> None:
    for name in names:
        value = figures[name]
        assert isinstance(value, int | float) and math.isfinite(value) and value > 0, (name, value)


def test_every_benchmark_runs_and_reports_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    env = os.environ | {"PHONE_SIM_BENCH_DATA": str(tmp_path / "bench")}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert set(PARTS) <= set(figures)
    for part in PARTS:
        assert f"({part}: " in done.stdout  # each part printed its table and its time

    provisioning = figures["provisioning"]
    _positive(provisioning, *provisioning)
    assert len(provisioning) == 4

    _positive(
        figures["roundtrip"],
        *(f"{r}_{q}_ms" for r in ("activation", "checkin", "noop") for q in ("p50", "p99")),
    )
    throughput = figures["throughput"]
    _positive(throughput, "activations_per_s", "noop_per_s", "ratio", "activation_cpu_us")
    _positive(throughput, "request_signature_us", "leaf_certificate_us", "verdict_signature_us")
    if "ratio_2_workers" in throughput:  # where the port can be shared (Linux)
        _positive(throughput, "activations_per_s_2_workers", "ratio_2_workers")

    serve = figures["serve"]
    _positive(serve, "activations_per_s_1_workers", "activation_cpu_us_1_workers")
    if "ratio_2_workers" in throughput:
        _positive(serve, "activations_per_s_2_workers", "activation_cpu_us_2_workers")

    _positive(figures["store"], "small_p99_ms", "large_p99_ms", "ratio")

    fleet = figures["fleet"]
    assert fleet["errors"] == 0
    _positive(fleet, "wall_s", "peak_rss_mib")

    tui = figures["tui"]
    _positive(tui, "first_frame_new_s", "first_frame_existing_s", "scenario_suite_s")
    assert tui["scenarios"] == len(listing())
    assert tui["scenario_suite_exit"] == 0

    worlds = figures["worlds"]
    _positive(worlds, "story_cpu_ms_per_test", "fixture_setup_teardown_ms", "fsync_ms")

    optimisations = figures["optimisations"]
    stages = optimisations.pop("stages")
    assert len(optimisations) == 7  # "before", "after" and one row per optimisation undone
    for name, row in optimisations.items():
        assert len(row) == 3 and all(v > 0 for v in row), (name, row)
    assert stages and all(v > 0 for v in stages)
