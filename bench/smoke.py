"""What a smoke run (``python -m bench --smoke``) checks of its own figures before it exits 0.

A smoke run's figures are not to be read (the sizes are the smallest, the parts run side by
side), but each part must have run against today's code and reported every figure it promises:
present, finite and positive, and the functional outcomes they stand on: the fleet had no
errors, the scenarios played passed. :func:`problems` says what is missing or wrong, one line
each; ``main`` prints them and exits 1.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

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
#: the before/after rows of ``optimisations``: "before", "after" and one per optimisation undone
OPTIMISATION_ROWS = 7


def _positive(part: str, figures: dict[str, Any], names: Iterable[str]) -> list[str]:
    out = []
    for name in names:
        value = figures.get(name)
        if value is None:
            out.append(f"{part}: no figure {name!r}")
        elif not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            out.append(f"{part}: {name} is {value!r}, not a positive number")
    return out


def _provisioning(f: dict[str, Any], two_workers: bool) -> list[str]:
    found = [] if len(f) == 4 else [f"provisioning: {len(f)} figures, not 4"]
    return found + _positive("provisioning", f, f)


def _roundtrip(f: dict[str, Any], two_workers: bool) -> list[str]:
    names = (f"{r}_{q}_ms" for r in ("activation", "checkin", "noop") for q in ("p50", "p99"))
    return _positive("roundtrip", f, names)


def _throughput(f: dict[str, Any], two_workers: bool) -> list[str]:
    names = ["activations_per_s", "noop_per_s", "ratio", "activation_cpu_us"]
    names += ["request_signature_us", "leaf_certificate_us", "verdict_signature_us"]
    if two_workers:
        names += ["activations_per_s_2_workers", "ratio_2_workers"]
    return _positive("throughput", f, names)


def _serve(f: dict[str, Any], two_workers: bool) -> list[str]:
    names = ["activations_per_s_1_workers", "activation_cpu_us_1_workers"]
    if two_workers:
        names += ["activations_per_s_2_workers", "activation_cpu_us_2_workers"]
    return _positive("serve", f, names)


def _store(f: dict[str, Any], two_workers: bool) -> list[str]:
    return _positive("store", f, ["small_p99_ms", "large_p99_ms", "ratio"])


def _fleet(f: dict[str, Any], two_workers: bool) -> list[str]:
    errors = [] if f.get("errors") == 0 else [f"fleet: {f.get('errors')!r} errors, not 0"]
    return errors + _positive("fleet", f, ["wall_s", "peak_rss_mib"])


def _tui(f: dict[str, Any], two_workers: bool) -> list[str]:
    out = _positive("tui", f, ["first_frame_new_s", "first_frame_existing_s", "scenario_suite_s"])
    out += _positive("tui", f, ["scenarios"])
    if f.get("scenario_suite_exit") != 0:
        out.append(f"tui: the scenarios played exited {f.get('scenario_suite_exit')!r}, not 0")
    return out


def _optimisations(f: dict[str, Any], two_workers: bool) -> list[str]:
    rows = {k: v for k, v in f.items() if k != "stages"}
    out = [] if len(rows) == OPTIMISATION_ROWS else [f"optimisations: {len(rows)} rows, not 7"]
    columns = ("activation p50", "check-in p50", "activations/s")
    for name, row in rows.items():
        if len(row) != len(columns):
            out.append(f"optimisations: {name}: {len(row)} figures, not {len(columns)}")
        out += _positive(f"optimisations: {name}", dict(zip(columns, row, strict=False)), columns)
    stages = f.get("stages") or []
    named = {f"stage {i + 1}": v for i, v in enumerate(stages)}
    out += _positive("optimisations", named, named or ["stage 1"])
    return out


def _worlds(f: dict[str, Any], two_workers: bool) -> list[str]:
    names = ["story_cpu_ms_per_test", "fixture_setup_teardown_ms", "fsync_ms"]
    return _positive("worlds", f, names)


CHECKS: dict[str, Callable[[dict[str, Any], bool], list[str]]] = {
    "provisioning": _provisioning,
    "roundtrip": _roundtrip,
    "throughput": _throughput,
    "serve": _serve,
    "store": _store,
    "fleet": _fleet,
    "tui": _tui,
    "optimisations": _optimisations,
    "worlds": _worlds,
}


def problems(figures: dict[str, Any], ran: Iterable[str], *, two_workers: bool) -> list[str]:
    """What is wrong with the figures of the parts that ``ran`` (empty: nothing).

    ``two_workers``: whether the server could run as two processes here (SO_REUSEPORT), so the
    two-process figures are promised too.
    """
    out = []
    for part in ran:
        if not isinstance(figures.get(part), dict):
            out.append(f"{part}: no figures")
        else:
            out += CHECKS[part](figures[part], two_workers)
    return out
