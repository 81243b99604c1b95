"""What ``python -m bench --smoke`` checks of its own figures (bench/smoke.py), on figures made
here: a complete set passes, and each way a part can fall short is named."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from bench.smoke import PARTS, problems


def complete() -> dict[str, Any]:
    """Figures shaped as a smoke run reports them (numbers from one such run)."""
    return {
        "machine": "2026-12-06; 2 cores",
        "provisioning": {"files": 6130.2, "memory": 433.9, "pool": 23782.9, "cache": 35.9},
        "roundtrip": {
            f"{r}_{q}_ms": 3.2 for r in ("activation", "checkin", "noop") for q in ("p50", "p99")
        },
        "throughput": {
            "request_signature_us": 70.6, "leaf_certificate_us": 189.0,
            "verdict_signature_us": 123.7, "activations_per_s": 62.9, "noop_per_s": 602.8,
            "ratio": 0.1, "activation_cpu_us": 2881.4, "noop_cpu_us": 503.6,
            "activations_per_s_2_workers": 17.0, "noop_per_s_2_workers": 61.7,
            "ratio_2_workers": 0.28, "activation_cpu_us_2_workers": 7500.0,
            "noop_cpu_us_2_workers": 1081.1,
        },
        "serve": {
            "activations_per_s_1_workers": 46.5, "activation_cpu_us_1_workers": 4516.1,
            "activations_per_s_2_workers": 32.9, "activation_cpu_us_2_workers": 5000.0,
        },
        "store": {"small_p99_ms": 297.8, "large_p99_ms": 179.5, "ratio": 0.6},
        "fleet": {"wall_s": 21.8, "errors": 0, "peak_rss_mib": 143.1, "phone_processes": 1},
        "tui": {
            "first_frame_new_s": 1.0, "first_frame_existing_s": 0.8, "scenario_suite_s": 3.1,
            "scenarios": 1, "scenario_suite_exit": 0,
        },
        "optimisations": {
            **{f"row {i}": [3.6, 3.3, 627.0] for i in range(7)},
            "stages": [267.0, 51.0, 259.0, 256.0, 155.0, 2.0],
        },
        "worlds": {
            "story_ms_per_test": 40.1, "story_cpu_ms_per_test": 30.2, "story_call_ms": 12.0,
            "fixture_setup_teardown_ms": 9.5, "fsync_ms": 0.4,
        },
    }  # fmt: skip


def test_a_complete_run_has_no_problem() -> None:
    assert problems(complete(), PARTS, two_workers=True) == []


def test_only_the_parts_that_ran_are_checked() -> None:
    figures = {"fleet": complete()["fleet"]}
    assert problems(figures, ["fleet"], two_workers=True) == []
    assert problems(figures, ["fleet", "store"], two_workers=True) == ["store: no figures"]


def _broken(part: str, name: str, value: object) -> dict[str, Any]:
    figures = copy.deepcopy(complete())
    if value is None:
        del figures[part][name]
    else:
        figures[part][name] = value
    return figures


@pytest.mark.parametrize(
    ("part", "name", "value", "expected"),
    [
        ("roundtrip", "noop_p99_ms", None, "roundtrip: no figure 'noop_p99_ms'"),
        ("throughput", "ratio", 0.0, "throughput: ratio is 0.0, not a positive number"),
        ("throughput", "ratio_2_workers", math.nan, "throughput: ratio_2_workers is nan"),
        ("serve", "activation_cpu_us_1_workers", -1, "serve: activation_cpu_us_1_workers is -1"),
        ("store", "ratio", "1.0", "store: ratio is '1.0', not a positive number"),
        ("fleet", "errors", 3, "fleet: 3 errors, not 0"),
        ("tui", "scenario_suite_exit", 1, "tui: the scenarios played exited 1, not 0"),
        ("provisioning", "cache", None, "provisioning: 3 figures, not 4"),
        ("optimisations", "row 3", [3.6, 0.0, 627.0], "optimisations: row 3: check-in p50 is 0.0"),
        ("optimisations", "row 4", [3.6, 3.3], "optimisations: row 4: 2 figures, not 3"),
        ("optimisations", "row 6", None, "optimisations: 6 rows, not 7"),
        ("optimisations", "stages", [], "optimisations: no figure 'stage 1'"),
        ("worlds", "fixture_setup_teardown_ms", None, "worlds: no figure 'fixture_setup_"),
        ("worlds", "story_cpu_ms_per_test", -2.0, "worlds: story_cpu_ms_per_test is -2.0"),
    ],
)
def test_each_shortfall_is_named(part: str, name: str, value: object, expected: str) -> None:
    found = problems(_broken(part, name, value), PARTS, two_workers=True)
    assert any(p.startswith(expected) for p in found), found


def test_the_two_process_figures_are_promised_only_where_two_processes_can_run() -> None:
    figures = _broken("throughput", "ratio_2_workers", None)
    assert problems(figures, PARTS, two_workers=False) == []
    assert problems(figures, PARTS, two_workers=True) == ["throughput: no figure 'ratio_2_workers'"]
