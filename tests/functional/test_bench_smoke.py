"""Every benchmark runs end to end at the smallest sizes, as docs/PERFORMANCE.md shows it.

The benchmarks are measurements, not tests (docs/PERFORMANCE.md), and nothing here compares a
time with a target. ``python -m bench --smoke`` checks what each part reports itself
(bench/smoke.py: every figure it promises, present and positive; the fleet without errors; the
scenarios played passed) and exits 1 otherwise. The run is the documented one: the ``make
bench`` block of docs/PERFORMANCE.md at its smallest size, which tests/functional/test_docs_run.py
runs too, once for both (tests/support/docs_session.py shares a block's result).
"""

from __future__ import annotations

import shlex

import pytest

from tests.support.docs_blocks import Plan
from tests.support.docs_session import PLANS, Blocks

pytestmark = pytest.mark.slow


def _make_bench_smoke(plan: Plan) -> bool:
    """Whether ``plan`` runs every benchmark at its smallest size through ``make bench``."""
    for step in plan.steps:
        words = shlex.split(step.command)
        every_part = not any(w.startswith("BENCH=") for w in words)
        if step.kind == "run" and words[:2] == ["make", "bench"] and every_part:
            return "BENCH_ARGS=--smoke" in words
    return False


def test_every_benchmark_runs_and_reports_its_figures(blocks: Blocks) -> None:
    documented = [p for p in PLANS if p.block.doc == "docs/PERFORMANCE.md" and _make_bench_smoke(p)]
    assert documented, "docs/PERFORMANCE.md no longer runs `make bench` at its smallest size"
    outcomes = blocks.outcomes(documented[0])
    failed = [o for o in outcomes if not o["passed"]]
    assert not failed, "\n\n".join(f"{o['command']}\n{o['detail']}" for o in failed)
    assert any(o["kind"] == "run" and "make bench" in str(o["command"]) for o in outcomes)
