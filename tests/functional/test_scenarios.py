"""Scenarios run headless on the real server: the shipped library passes, output is the same
from run to run, a failed expectation stops the run, JUnit reports it, and the CLI works."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from phone_sim.protocol.clock import STORY_START, FixedClock
from phone_sim.protocol.identity import Factory
from phone_sim.scenario.driver import RemoteServer
from phone_sim.scenario.library import resolve, shipped
from phone_sim.scenario.parser import load_scenario
from phone_sim.scenario.runner import ScenarioResult, run
from phone_sim.scenario.steps import StepName
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.nesting import nested

FAILING = """
description = "expects the Cuban phone to work after 3 days (it does not)"

[[steps]]
do = "boot"

[[steps]]
do = "insert_sim"
slot = 1
carrier = "Cubacel"

[[steps]]
do = "activate"

[[steps]]
do = "advance"
days = 3
expect.screen = "home"
expect.verdict_reason = "EMBARGOED_TERRITORY"

[[steps]]
do = "reboot"
"""


def quiet_run(path: Path, **kwargs: object) -> ScenarioResult:
    return run(load_scenario(path), out=lambda line: None, **kwargs)  # type: ignore[arg-type]


def phone_sim(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "phone_sim.cli", *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=cwd,
    )


@pytest.fixture
def failing(tmp_path: Path) -> Path:
    path = tmp_path / "failing.toml"
    path.write_text(textwrap.dedent(FAILING).lstrip(), encoding="utf-8")
    return path


@pytest.mark.parametrize("path", shipped(), ids=lambda p: p.stem)
def test_every_shipped_scenario_passes_headless(path: Path) -> None:
    result = quiet_run(path)
    assert result.passed, result.output
    assert result.lines[-1].startswith("  PASSED:")


def test_every_step_kind_runs_through_its_registry_entry() -> None:
    # The shipped library leaves some kinds out (power_off, airplane, operator_release, ...).
    scenario = load_scenario(Path(__file__).parent / "every-step-kind.toml")
    assert {step.kind for step in scenario.steps} == set(StepName)
    result = run(scenario, out=lambda line: None)
    assert result.passed, result.output


def test_the_same_file_gives_byte_identical_output() -> None:
    # The tour switches faults (threads, a timeout) and the clock steps through back-offs.
    path = resolve("faults-tour")
    first, second = quiet_run(path), quiet_run(path)
    assert first.output == second.output
    assert "127.0.0.1:" not in first.output


def test_a_failed_expectation_stops_the_run_at_that_step(failing: Path) -> None:
    result = quiet_run(failing)
    assert not result.passed
    assert [s.step.index for s in result.steps] == [1, 2, 3, 4]  # the reboot never ran
    failed = result.failed_step
    assert failed is not None and not failed.error
    assert [c.ok for c in failed.checks] == [False, True]
    assert result.lines[-1] == (
        "  FAILED at step 4 (advance, line 14): expect screen=home: screen is lock "
        "(state locked, reason EMBARGOED_TERRITORY)"
    )


def test_an_action_the_phone_refuses_fails_the_step(tmp_path: Path) -> None:
    path = tmp_path / "twice.toml"
    path.write_text('[[steps]]\ndo = "boot"\n\n[[steps]]\ndo = "boot"\n', encoding="utf-8")
    result = quiet_run(path)
    failed = result.failed_step
    assert failed is not None and failed.error
    assert failed.detail == (
        "the phone refused: cannot power on while setup: the phone is already on"
    )


@pytest.mark.slow
def test_the_cli_runs_files_and_names_exits_non_zero_and_writes_junit(
    tmp_path: Path, failing: Path
) -> None:
    report = tmp_path / "out" / "junit.xml"
    done = phone_sim(
        "scenario", "run", "activated-in-germany", str(failing), "--junit", str(report)
    )
    assert done.returncode == 1, done.stderr
    assert "  4. advance days=3 ... ok: 3 check-ins" in done.stdout
    assert "2 scenarios: 1 passed, 1 failed" in done.stdout
    root = ET.parse(report).getroot()
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("9", "1", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert suites["activated-in-germany"].get("failures") == "0"
    cases = suites["failing"].findall("testcase")
    assert [c.get("name") for c in cases][3] == "step 04: advance days=3"
    failure = cases[3].find("failure")
    assert failure is not None and "expect screen=home" in str(failure.get("message"))
    assert cases[3].get("line") == "14"
    assert cases[4].find("skipped") is not None
    out = suites["failing"].find("system-out")
    assert out is not None and "FAILED at step 4" in str(out.text)


def test_the_cli_reports_a_bad_file_in_junit_and_runs_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[steps]]\ndo = "bot"\n', encoding="utf-8")
    report = tmp_path / "junit.xml"
    done = phone_sim("scenario", "run", "activated-in-germany", str(bad), "--junit", str(report))
    assert done.returncode == 2
    assert done.stdout == ""
    assert f"{bad}:2: step 1: unknown step kind 'bot'; did you mean 'boot'?" in done.stderr
    error = ET.parse(report).getroot().find("testsuite/testcase/error")
    assert error is not None and "unknown step kind" in str(error.get("message"))


def test_the_cli_reports_every_problem_and_deep_nesting_without_a_traceback(
    tmp_path: Path,
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[steps]]\ndo = "bot"\n[[steps]]\ndo = "advance"\ndays = -1\n')
    deep = tmp_path / "deep.toml"
    deep.write_text('[[steps]]\ndo = "boot"\n' + nested("expect", "tables"))
    done = phone_sim("scenario", "run", str(bad), str(deep))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"{bad}:2: step 1: unknown step kind 'bot'; did you mean 'boot'? (expected one of: "
        "boot, power_off, reboot, factory_reset, activate, check_in, insert_sim, remove_sim, "
        "swap_sims, roam, airplane, dismiss_notice, advance, server_down, server_up, server_fault, "
        "operator_lock, operator_release, operator_release_all, policy_change, sign_in, "
        "sign_out, unlock_account, operator_clear_account, operator_unblock_code, "
        "enter_unblock_code, expect)",
        f"{bad}:5: step 2 (advance): days: must not be negative, got -1",
        f"{deep}:3: steps: nested more than 32 levels deep (tables, arrays or dotted keys)",
        "phone-sim: 2 bad scenario file(s); nothing was run",
    ]


def test_the_cli_lists_the_shipped_scenarios() -> None:
    done = phone_sim("scenario", "list")
    assert done.returncode == 0
    lines = done.stdout.splitlines()
    assert len(lines) == len(shipped()) + 1
    assert any(
        line.startswith("cubacel-locked-after-3-days ") and "3 days later" in line for line in lines
    )


@pytest.fixture
def standalone(tmp_path: Path) -> Iterator[RemoteServer]:
    """A server the runner does not own, as `vendor-server serve --speed 0` would be."""
    world = tmp_path / "standalone"
    Factory.open(world / "factory")
    settings = ServerSettings(data_dir=world / "vendor", port=0)
    with EmbeddedVendorServer(settings, clock=FixedClock(STORY_START)) as server:
        yield RemoteServer(
            server.url,
            server.vendor_public_key_path,
            world / "factory",
            server.admin_token.value,
        )


def test_a_scenario_runs_against_a_server_given_by_url(standalone: RemoteServer) -> None:
    # The runner moves the server's simulated clock along with the phone's.
    result = quiet_run(resolve("investigation-hold-and-bulk-release"), server=standalone)
    assert result.passed, result.output
    assert f"vendor server {standalone.url}" in result.output


def test_server_down_needs_the_embedded_server(standalone: RemoteServer) -> None:
    # Skipped, not failed: a server given by URL is not ours to stop (issue #19); the steps
    # after it are skipped too, since the world is no longer the scenario's.
    result = quiet_run(resolve("server-down-during-setup"), server=standalone)
    assert result.passed and result.failed_step is None, result.output
    first = result.skipped_steps[0]
    assert first.step.kind == "server_down"
    assert first.skipped == "server_down needs the embedded server (not --server)"
    assert all(s.skipped for s in result.steps[first.step.index :])


def test_scenarios_side_by_side_print_what_one_at_a_time_prints(failing: Path) -> None:
    # docs/decisions/scenarios-side-by-side.md: several at once, output in the order given,
    # though the one that waits in real time, given last, starts first
    # (docs/decisions/waiting-scenarios-first.md).
    names = ["activated-in-germany", str(failing), "offline-lock", "server-down-during-setup"]
    together = phone_sim("scenario", "run", *names)
    assert together.returncode == 1
    # One at a time, as `scenario run NAME` prints one (the runner's lines, in this process).
    one_by_one = []
    for name in names:
        lines: list[str] = []
        run(load_scenario(resolve(name)), out=lines.append)
        one_by_one.append("\n".join(lines).strip())
    expected = "\n\n".join(one_by_one)
    summary = f"\n\n{len(names)} scenarios: 3 passed, 1 failed"
    assert _untimed(together.stdout.strip()) == _untimed(expected + summary)


def _untimed(text: str) -> str:
    """The output without its durations and ports, which differ from run to run."""
    import re

    return re.sub(r"\d+(\.\d+)? ?(ms|s)\b", "N", text)
