"""Names, at the end of a run, each test not marked slow that took more CPU than such a test may.

`make test` runs every test not marked slow and is to stay near two minutes on two cores; the
tests marked slow run after it, in CI (docs/decisions/slow-tests-run-in-ci.md). A test that
grows past ``BUDGET_S`` of CPU is named here, so that it is made cheaper or marked slow before it
drifts `make test` past its two minutes. CPU rather than wall time: a crowded machine moves it
little, and two cores' worth of CPU is what bounds the run.

A test's CPU is its worker's (every thread: embedded servers run in threads) plus that of the
children it waited for (a subprocess it started), from its setup to the end of its teardown. A
report, never a failure: the figures come from a shared machine.
"""

from __future__ import annotations

import resource
from collections.abc import Generator

import pytest
from pluggy import Result

#: the CPU seconds a test not marked slow may take (its setup and teardown included)
BUDGET_S = 2.0
_PROPERTY = "cpu_seconds"
_STARTED = pytest.StashKey[float]()


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class CpuBudget:
    """Measures each test where it runs; gathers and prints where the run is reported."""

    def __init__(self) -> None:
        self.over: list[tuple[float, str]] = []

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, Result[pytest.TestReport], None]:
        if call.when == "setup":
            item.stash[_STARTED] = _cpu_seconds()
        outcome = yield
        quick = item.get_closest_marker("slow") is None
        if call.when == "teardown" and _STARTED in item.stash and quick:
            # user_properties travel with a report from a pytest-xdist worker to the
            # controller, which prints the summary
            seconds = _cpu_seconds() - item.stash[_STARTED]
            outcome.get_result().user_properties.append((_PROPERTY, seconds))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for name, value in report.user_properties if report.when == "teardown" else ():
            if name == _PROPERTY and isinstance(value, float) and value > BUDGET_S:
                self.over.append((value, report.nodeid))

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not self.over:
            return
        terminalreporter.section(f"tests not marked slow that took over {BUDGET_S:g} s of CPU")
        for seconds, nodeid in sorted(self.over, reverse=True):
            terminalreporter.write_line(f"{seconds:5.1f} s CPU  {nodeid}")
        terminalreporter.write_line(
            "make them cheaper, or mark them slow (tests/support/cpu_budget.py)"
        )


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(CpuBudget(), "cpu_budget")
