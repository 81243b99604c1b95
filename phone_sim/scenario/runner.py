"""Run a parsed scenario headless: one PhoneDriver, each step printed with its result.

The run stops at the first step that fails, whether its action could not be done or one of its
expectations did not hold. Output depends only on the scenario: the clock is simulated and
fixed between steps, randomness is seeded, and nothing printed carries a port or a duration.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phone_sim.protocol.files import throwaway

from .driver import PhoneDriver, RemoteServer
from .errors import DriverError
from .expectations import mask_ports
from .model import Expectation, Scenario, Step
from .steps import STEPS, StepName

Output = Callable[[str], object]


@dataclass(frozen=True)
class CheckResult:
    expectation: Expectation
    ok: bool
    detail: str

    @property
    def label(self) -> str:
        return f"expect {self.expectation.key}={_show(self.expectation.value)}"


@dataclass(frozen=True)
class StepResult:
    step: Step
    ok: bool
    #: what the action did, or why it could not be done
    detail: str
    checks: tuple[CheckResult, ...] = ()
    #: True when the action itself failed (JUnit "error"); False for a failed expectation
    error: bool = False

    @property
    def label(self) -> str:
        return step_label(self.step)

    @property
    def failure(self) -> str | None:
        if self.ok:
            return None
        if self.error:
            return self.detail
        return "; ".join(f"{c.label}: {c.detail}" for c in self.checks if not c.ok)


@dataclass
class ScenarioResult:
    scenario: Scenario
    steps: list[StepResult] = field(default_factory=list)
    #: everything printed, line by line
    lines: list[str] = field(default_factory=list)
    setup_error: str | None = None
    #: wall-clock seconds (JUnit reports it; the printed output never does)
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return (
            self.setup_error is None
            and all(s.ok for s in self.steps)
            and (len(self.steps) == len(self.scenario.steps))
        )

    @property
    def failed_step(self) -> StepResult | None:
        return next((s for s in self.steps if not s.ok), None)

    @property
    def output(self) -> str:
        return "\n".join(self.lines) + "\n"


def _show(value: Any) -> str:
    if isinstance(value, str) and value and all(c.isalnum() or c in "-_:.+" for c in value):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_show(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def step_label(step: Step) -> str:
    """``insert_sim slot=1 carrier=Cubacel``, as the output shows a step."""
    args = dict(step.args)
    if step.kind == StepName.POLICY_CHANGE:
        args = {k: v for k, v in args.items() if k in ("file", "version")}
    return " ".join([step.kind, *(f"{k}={_show(v)}" for k, v in args.items())])


def perform(driver: PhoneDriver, step: Step) -> str:
    """Do one step's action on ``driver``, as its kind's registry entry says."""
    return STEPS[step.kind].perform(driver, step.params)


def execute(driver: PhoneDriver, step: Step) -> StepResult:
    """One step: its action, then each of its expectations (all of them, even after a miss)."""
    try:
        detail = perform(driver, step)
    except DriverError as exc:
        return StepResult(step, False, mask_ports(str(exc)), error=True)
    except Exception as exc:  # a bug must not take the other scenarios of a run down with it
        return StepResult(step, False, f"internal error: {type(exc).__name__}: {exc}", error=True)
    checks = []
    for expectation in step.expect:
        try:
            ok, found = driver.expect(expectation.key, expectation.value)
        except DriverError as exc:
            ok, found = False, mask_ports(str(exc))
        checks.append(CheckResult(expectation, ok, found))
    return StepResult(step, all(c.ok for c in checks), detail, tuple(checks))


def step_lines(result: StepResult) -> list[str]:
    """The printed lines of one step."""
    step = result.step
    head = f"{step.index:3d}. {result.label}"
    if result.error:
        lines = [f"{head} ... FAILED: {result.detail}"]
    elif step.kind == StepName.EXPECT:
        lines = [f"{head}"]
    else:
        lines = [f"{head} ... ok" + (f": {result.detail}" if result.detail else "")]
    for check in result.checks:
        verdict = "ok" if check.ok else f"FAILED: {check.detail}"
        lines.append(f"       {check.label} ... {verdict}")
    return lines


def header_lines(
    scenario: Scenario, driver: PhoneDriver | None, server: RemoteServer | None
) -> list[str]:
    lines = [f"{scenario.name}: {scenario.description or '(no description)'}"]
    where = "embedded vendor server" if server is None else f"vendor server {server.url}"
    lines.append(f"     {scenario.device.describe()}; {where}")
    start = ""
    if driver is not None:
        now = dt.datetime.fromtimestamp(driver.world.now(), tz=dt.UTC)
        start = f"; starts {now:%Y-%m-%d %H:%M} UTC"
    version = f" ({scenario.policy.version})" if scenario.policy.version else ""
    lines.append(f"     policy: {scenario.policy.source}{version}; seed {scenario.seed}{start}")
    return lines


@contextmanager
def scenario_driver(
    scenario: Scenario,
    result: ScenarioResult,
    emit: Output,
    *,
    server: RemoteServer | None,
    data_dir: Path | None,
) -> Iterator[PhoneDriver | None]:
    """Open the world a run needs and print its header; yields None if it could not be opened.

    Shared by the headless runner and the one in the app, so both start a scenario alike.
    """
    with (
        tempfile.TemporaryDirectory(prefix="phone-sim-scenario-") as tmp,
        # Removed when the run ends: its files need no fsync (phone_sim.protocol.files).
        throwaway(Path(tmp)),
    ):
        try:
            driver = PhoneDriver.open(
                data_dir or Path(tmp),
                device=scenario.device,
                policy_text=scenario.policy.text,
                seed=scenario.seed,
                start=scenario.start,
                timeout=scenario.timeout,
                server=server,
            )
        except DriverError as exc:
            for line in header_lines(scenario, None, server):
                emit(line)
            result.setup_error = mask_ports(str(exc))
            emit(f"  FAILED before the first step: {result.setup_error}")
            yield None
            return
        with driver:
            for line in header_lines(scenario, driver, server):
                emit(line)
            yield driver


def recording(result: ScenarioResult, out: Output) -> Output:
    """An output that also keeps each line in ``result``."""

    def emit(line: str) -> None:
        result.lines.append(line)
        out(line)

    return emit


def run(
    scenario: Scenario,
    *,
    server: RemoteServer | None = None,
    out: Output = print,
    data_dir: Path | None = None,
    after_step: Callable[[PhoneDriver, StepResult], object] | None = None,
) -> ScenarioResult:
    """Run ``scenario`` on a new phone; print each step through ``out``.

    ``data_dir`` keeps the world (default: a temporary directory removed afterwards);
    ``after_step`` is called after each step (screenshots, say).
    """
    result = ScenarioResult(scenario)
    emit = recording(result, out)
    started = time.monotonic()
    with scenario_driver(scenario, result, emit, server=server, data_dir=data_dir) as driver:
        if driver is None:
            result.duration = time.monotonic() - started
            return result
        for step in scenario.steps:
            step_result = execute(driver, step)
            result.steps.append(step_result)
            for line in step_lines(step_result):
                emit(line)
            if after_step is not None:
                after_step(driver, step_result)
            if not step_result.ok:
                break
    result.duration = time.monotonic() - started
    emit(summary_line(result))
    return result


def summary_line(result: ScenarioResult) -> str:
    checks = sum(len(s.checks) for s in result.steps)
    if result.passed:
        return f"  PASSED: {len(result.steps)} steps, {checks} expectations"
    failed = result.failed_step
    if failed is None:
        return f"  FAILED: {result.setup_error or 'not every step ran'}"
    step = failed.step
    return f"  FAILED at step {step.index} ({step.kind}, line {step.line}): {failed.failure}"
