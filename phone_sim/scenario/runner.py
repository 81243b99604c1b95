"""Run a parsed scenario headless: one PhoneDriver, each step printed with its result.

The run stops at the first step that fails, whether its action could not be done or one of its
expectations did not hold. Output depends only on the scenario: the clock is simulated and
fixed between steps, randomness is seeded, and nothing printed carries a port or a duration.

What the world cannot offer is SKIPPED, with the reason, never FAILED
(:class:`~.errors.NotAvailable`): against a server that speaks only the protocol, an
expectation that reads the vendor's admin API, an operator's step, or ``advance`` on a vendor
whose time nobody may move. After a skipped step the world is no longer the scenario's, so the
steps after it are skipped too, saying which step they follow; a scenario whose policy could
not be installed skips every step.
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

from .driver import PhoneDriver, RemoteServer, phone_spec
from .errors import DriverError, NotAvailable
from .model import Expectation, Scenario, Step
from .steps import STEPS, StepName
from .subject import mask_ports
from .world import ScenarioWorld

Output = Callable[[str], object]


@dataclass(frozen=True)
class CheckResult:
    expectation: Expectation
    ok: bool
    detail: str
    #: why it was not checked (it needs what this world does not have)
    skipped: str | None = None

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
    #: why the step was not done (what it needs is not in this world, or it follows a skip)
    skipped: str | None = None

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

    @property
    def skipped_steps(self) -> list[StepResult]:
        return [s for s in self.steps if s.skipped is not None]

    @property
    def skipped_checks(self) -> int:
        return sum(1 for s in self.steps for c in s.checks if c.skipped is not None)


def _show(value: Any) -> str:
    if isinstance(value, str) and value and all(c.isalnum() or c in "-_:.+" for c in value):
        return value
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_show(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, ensure_ascii=False)


def step_label(step: Step) -> str:
    """``insert_sim slot=1 carrier=Cubacel`` (``cuban: insert_sim ...`` naming its phone), as
    the output shows a step."""
    # A password is never printed, not even a scenario's own (output goes to CI logs).
    args = {k: "***" if k == "password" else v for k, v in step.args.items()}
    if step.kind == StepName.POLICY_CHANGE:
        args = {k: v for k, v in args.items() if k in ("file", "version")}
    text = " ".join([step.kind, *(f"{k}={_show(v)}" for k, v in args.items())])
    return text if step.phone is None else f"{step.phone}: {text}"


def perform(driver: PhoneDriver, step: Step) -> str:
    """Do one step's action on ``driver``, as its kind's registry entry says."""
    return STEPS[step.kind].perform(driver, step.params)


def execute(driver: PhoneDriver, step: Step) -> StepResult:
    """One step: its action, then each of its expectations (all of them, even after a miss)."""
    try:
        detail = perform(driver, step)
    except NotAvailable as exc:
        return skip(step, mask_ports(str(exc)))
    except DriverError as exc:
        return StepResult(step, False, mask_ports(str(exc)), error=True)
    except Exception as exc:  # a bug must not take the other scenarios of a run down with it
        return StepResult(step, False, f"internal error: {type(exc).__name__}: {exc}", error=True)
    checks = []
    for expectation in step.expect:
        try:
            ok, found = driver.expect(expectation.key, expectation.value)
        except NotAvailable as exc:
            why = mask_ports(str(exc))
            checks.append(CheckResult(expectation, True, why, skipped=why))
            continue
        except DriverError as exc:
            ok, found = False, mask_ports(str(exc))
        checks.append(CheckResult(expectation, ok, found))
    return StepResult(step, all(c.ok for c in checks), detail, tuple(checks))


def skip(step: Step, why: str) -> StepResult:
    """``step`` not done, and its expectations not checked, because of ``why``."""
    checks = tuple(
        CheckResult(e, True, "step skipped", skipped="step skipped") for e in step.expect
    )
    return StepResult(step, True, why, checks, skipped=why)


def play(driver: PhoneDriver, step: Step, diverged: str | None) -> StepResult:
    """``step``, unless the world left the scenario's path earlier (``diverged`` says how)."""
    return execute(driver, step) if diverged is None else skip(step, diverged)


def divergence(world: ScenarioWorld, result: StepResult | None = None) -> str | None:
    """Why the steps from here cannot run as the scenario means them, or None."""
    if result is None:
        skipped = world.policy_skipped
        return None if skipped is None else "the scenario's policy is not installed (above)"
    if result.skipped is not None and not result.skipped.startswith("follows step"):
        return f"follows step {result.step.index} ({result.step.kind}), which was skipped"
    return None


def step_lines(result: StepResult) -> list[str]:
    """The printed lines of one step."""
    step = result.step
    head = f"{step.index:3d}. {result.label}"
    if result.skipped is not None:
        lines = [f"{head} ... SKIPPED: {result.skipped}"]
    elif result.error:
        lines = [f"{head} ... FAILED: {result.detail}"]
    elif step.kind == StepName.EXPECT:
        lines = [f"{head}"]
    else:
        lines = [f"{head} ... ok" + (f": {result.detail}" if result.detail else "")]
    for check in result.checks:
        if result.skipped is not None:
            continue  # a skipped step's line says why; its expectations were not checked
        verdict = "ok" if check.ok else f"FAILED: {check.detail}"
        if check.skipped is not None:
            verdict = f"SKIPPED: {check.skipped}"
        lines.append(f"       {check.label} ... {verdict}")
    return lines


def header_lines(
    scenario: Scenario, world: ScenarioWorld | None, server: RemoteServer | None
) -> list[str]:
    lines = [f"{scenario.name}: {scenario.description or '(no description)'}"]
    where = "embedded vendor server" if server is None else f"vendor server {server.url}"
    if len(scenario.phones) == 1:
        lines.append(f"     {scenario.device.describe()}; {where}")
    else:
        lines.append(f"     {len(scenario.phones)} phones on one {where}:")
        lines += [f"       {p.name}: {p.device.describe()}" for p in scenario.phones]
    start = ""
    if world is not None:
        now = dt.datetime.fromtimestamp(world.now(), tz=dt.UTC)
        start = f"; starts {now:%Y-%m-%d %H:%M} UTC"
    version = f" ({scenario.policy.version})" if scenario.policy.version else ""
    lines.append(f"     policy: {scenario.policy.source}{version}; seed {scenario.seed}{start}")
    if world is not None and world.policy_skipped is not None:
        lines.append(f"     SKIPPED: {world.policy_skipped}")
    return lines


@contextmanager
def scenario_world(
    scenario: Scenario,
    result: ScenarioResult,
    emit: Output,
    *,
    server: RemoteServer | None,
    data_dir: Path | None,
) -> Iterator[ScenarioWorld | None]:
    """Open the world a run needs, with every phone of the scenario (new, off), and print its
    header; yields None if it could not be opened.

    Shared by the headless runner and the one in the app, so both start a scenario alike.
    """
    with (
        tempfile.TemporaryDirectory(prefix="phone-sim-scenario-") as tmp,
        # Removed when the run ends: its files need no fsync (phone_sim.protocol.files).
        throwaway(Path(tmp)),
    ):
        try:
            world = ScenarioWorld.open(
                data_dir or Path(tmp),
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
        with world:
            try:
                for entry in scenario.phones:
                    world.phone(entry.name, phone_spec(entry.device))
            except DriverError as exc:
                result.setup_error = mask_ports(str(exc))
            for line in header_lines(scenario, world, server):
                emit(line)
            if result.setup_error is not None:
                emit(f"  FAILED before the first step: {result.setup_error}")
                yield None
                return
            yield world


def driver_for(world: ScenarioWorld, scenario: Scenario, step: Step) -> PhoneDriver:
    """The driver of the phone ``step`` acts on (or whose expectations it checks)."""
    return world.drivers[scenario.phone_of(step)]


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
    with scenario_world(scenario, result, emit, server=server, data_dir=data_dir) as world:
        if world is None:
            result.duration = time.monotonic() - started
            return result
        diverged = divergence(world)
        for step in scenario.steps:
            driver = driver_for(world, scenario, step)
            step_result = play(driver, step, diverged)
            diverged = diverged or divergence(world, step_result)
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
    skipped = result.skipped_steps
    ran = [s for s in result.steps if s.skipped is None]
    checks = sum(1 for s in ran for c in s.checks if c.skipped is None)
    if result.passed:
        line = f"  PASSED: {_count(len(ran), 'step')}, {_count(checks, 'expectation')}"
        parts = [
            _count(n, noun)
            for n, noun in ((len(skipped), "step"), (result.skipped_checks, "expectation"))
            if n
        ]
        if parts:
            why = f" (from step {skipped[0].step.index}: {skipped[0].skipped})" if skipped else ""
            line += f"; SKIPPED: {', '.join(parts)}{why}"
        return line
    failed = result.failed_step
    if failed is None:
        return f"  FAILED: {result.setup_error or 'not every step ran'}"
    step = failed.step
    return f"  FAILED at step {step.index} ({step.kind}, line {step.line}): {failed.failure}"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
