"""Scenario files: every kind of mistake is reported with file, line, step and reason, and a bad
file runs nothing. Good files (and every shipped scenario) parse into the expected steps."""

from __future__ import annotations

import argparse
import textwrap
import tomllib
from pathlib import Path

import pytest

from phone_sim.protocol.clock import STORY_START
from phone_sim.scenario import cli as scenario_cli
from phone_sim.scenario.errors import ScenarioError
from phone_sim.scenario.library import shipped
from phone_sim.scenario.parser import load_scenario
from phone_sim.scenario.policy_text import default_policy, dump_toml
from tests.support.nesting import KINDS, nested

GOOD_STEPS = """
[[steps]]
do = "boot"

[[steps]]
do = "insert_sim"
slot = 1
carrier = "Cubacel"
"""


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> ScenarioError:
    path = write(tmp_path, text)
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    return caught.value


def test_a_good_file_parses_into_steps_with_their_lines_and_expectations(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        description = "demo"
        seed = 7
        start = 2021-09-02T00:00:00Z

        [device]
        model = "Redmi 9A"
        market = "IN"

        [[steps]]
        do = "boot"
        expect.screen = "setup"

        [[steps]]
        do = "advance"
        days = 1
        hours = 2

        [[steps]]
        expect = { state = "activated", audit = { rule = "hold" } }
        """,
    )
    scenario = load_scenario(path)
    assert (scenario.name, scenario.description, scenario.seed) == ("s", "demo", 7)
    assert scenario.start == STORY_START + 12 * 3600
    assert scenario.device.model == "Redmi 9A" and scenario.device.market == "IN"
    assert scenario.policy.text is None  # the server's packaged default decides
    kinds = [(s.index, s.kind, s.line) for s in scenario.steps]
    assert kinds == [(1, "boot", 9), (2, "advance", 13), (3, "expect", 18)]
    assert scenario.steps[1].args == {"days": 1, "hours": 2}
    assert [(e.key, e.line) for e in scenario.steps[0].expect] == [("screen", 11)]
    assert scenario.steps[2].expect[1].value == {"rule": "hold"}


def test_the_message_names_file_line_step_and_reason(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD_STEPS + "slto = 2\n")
    assert (error.line, error.step_index, error.step_kind) == (8, 2, "insert_sim")
    assert str(error) == (
        f"{tmp_path / 's.toml'}:8: step 2 (insert_sim): unknown key 'slto'; did you mean 'slot'? "
        "(expected one of: slot, carrier, mcc, mnc, iccid, card, do, phone, expect)"
    )


def test_every_problem_in_a_file_is_reported_at_once_with_its_line_and_step(
    tmp_path: Path,
) -> None:
    error = error_for(
        tmp_path,
        GOOD_STEPS.replace("slot = 1", "slot = 3")  # line 6
        + '\n[[steps]]\ndo = "activat"\n'  # line 10
        + '\n[[steps]]\ndo = "advance"\ndays = 3\nexpect.screen = "locked"\n',  # line 15
    )
    path = tmp_path / "s.toml"
    assert str(error).splitlines() == [
        f"{path}:6: step 2 (insert_sim): slot: slot must be 1 or 2, got 3",
        f"{path}:10: step 3: unknown step kind 'activat'; did you mean 'activate'? (expected "
        "one of: boot, power_off, reboot, factory_reset, activate, check_in, insert_sim, "
        "remove_sim, swap_sims, roam, airplane, dismiss_notice, advance, server_down, server_up, "
        "server_fault, operator_lock, operator_release, operator_release_all, policy_change, "
        "sign_in, sign_out, unlock_account, operator_clear_account, operator_unblock_code, "
        "enter_unblock_code, expect)",
        f"{path}:15: step 4 (advance): expect.screen: unknown value 'locked'; did you mean "
        "'lock'? (expected one of: off, boot, setup, home, lock)",
    ]
    # The first problem is the error's own line, step and reason (as with a single one).
    assert (error.line, error.step_index, error.step_kind) == (6, 2, "insert_sim")
    assert [(p.line, p.step_index) for p in error.problems] == [(6, 2), (10, 3), (15, 4)]


def test_problems_outside_the_steps_and_in_policies_come_together(tmp_path: Path) -> None:
    error = error_for(
        tmp_path,
        'seeed = 1\n[device]\nmodel = "Redmi Note 99"\n[policy]\nenforcement.delay_days = -1\n'
        + GOOD_STEPS.replace('carrier = "Cubacel"', 'carrier = "Cubacell"')
        + '\n[[steps]]\ndo = "policy_change"\npolicy = { hold_mesage = "x" }\n',
    )
    assert [(p.line, p.step_index, p.reason.split(";")[0]) for p in error.problems] == [
        (1, None, "unknown key 'seeed'"),
        (3, None, "device.model: unknown model 'Redmi Note 99'"),
        (5, None, "policy: enforcement.delay_days: must be between 0 and 3650, got -1"),
        (13, 2, "carrier: unknown carrier 'Cubacell'"),
        (17, 3, "policy: hold_mesage: unknown field"),
    ]
    assert "did you mean 'Cubacel'?" in error.problems[3].reason
    assert "did you mean 'hold_message'?" in error.problems[4].reason


@pytest.mark.parametrize("kind", KINDS)
def test_a_deeply_nested_file_is_one_clean_problem(tmp_path: Path, kind: str) -> None:
    error = error_for(tmp_path, GOOD_STEPS + nested("extra", kind))
    assert str(error) == (
        f"{tmp_path / 's.toml'}:8: steps: nested more than 32 levels deep "
        "(tables, arrays or dotted keys)"
    )


def test_a_deeply_nested_policy_file_is_a_problem_of_the_scenario(tmp_path: Path) -> None:
    write(tmp_path, nested("version", "arrays"), "deep.toml")
    error = error_for(tmp_path, '[policy]\nfile = "deep.toml"\n' + GOOD_STEPS)
    assert (error.line, error.reason) == (
        2,
        "policy file deep.toml:1: version: nested more than 32 levels deep "
        "(tables, arrays or dotted keys)",
    )


def test_toml_syntax_errors_carry_their_line(tmp_path: Path) -> None:
    error = error_for(tmp_path, GOOD_STEPS + "\n[[steps]]\ndo = boot\n")
    assert error.line == 10 and error.step_index is None
    assert error.reason.startswith("not valid TOML: Invalid value")


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        (
            'descripton = "x"\n' + GOOD_STEPS,
            1,
            "unknown key 'descripton'; did you mean 'description'?",
        ),
        ('[device]\nmodel = "Redmi Note 99"\n' + GOOD_STEPS, 2, "did you mean 'Redmi Note 9'?"),
        ('[device]\nmarket = "CN"\n' + GOOD_STEPS, 2, "Redmi Note 9 was not sold in 'CN'"),
        (
            '[device]\nbootloader = "locked"\ncustom_rom = true\n' + GOOD_STEPS,
            3,
            "custom ROM needs",
        ),
        ("[device]\nmodle = 1\n" + GOOD_STEPS, 2, "did you mean 'model'?"),
        ("seed = -1\n" + GOOD_STEPS, 1, "seed must be a whole number"),
        ('start = "yesterday"\n' + GOOD_STEPS, 1, "not an ISO 8601 date-time"),
        ("start = 2021-09-01T12:00:00\n" + GOOD_STEPS, 1, "with its zone"),
        ('description = "x"\n', None, "steps: give at least one step"),
    ],
)
def test_problems_outside_the_steps(
    tmp_path: Path, text: str, line: int | None, reason: str
) -> None:
    error = error_for(tmp_path, text)
    assert error.step_index is None
    assert error.line == line
    assert reason in error.reason


def test_an_invalid_policy_override_names_the_policy_field_and_its_line(tmp_path: Path) -> None:
    error = error_for(tmp_path, "[policy]\n[policy.enforcement]\ndelay_days = -2\n" + GOOD_STEPS)
    assert error.line == 3
    assert error.reason == "policy: enforcement.delay_days: must be between 0 and 3650, got -2"


def test_policy_keys_are_closed_and_policy_files_must_exist(tmp_path: Path) -> None:
    assert (
        "unknown field" in error_for(tmp_path, "[policy]\nlock_mesage = 'x'\n" + GOOD_STEPS).reason
    )
    error = error_for(tmp_path, '[policy]\nfile = "missing.toml"\n' + GOOD_STEPS)
    assert error.line == 2 and "cannot read policy file missing.toml" in error.reason


def step_error(tmp_path: Path, step: str) -> ScenarioError:
    return error_for(tmp_path, GOOD_STEPS + "\n[[steps]]\n" + textwrap.dedent(step).lstrip("\n"))


@pytest.mark.parametrize(
    ("step", "line", "reason"),
    [
        ('do = "insert_simm"', 10, "unknown step kind 'insert_simm'; did you mean 'insert_sim'?"),
        ("slot = 1", 9, "say what the step does"),
        ('do = "insert_sim"\nslot = "1"\ncarrier = "O2"', 11, "slot: must be an integer, not str"),
        (
            'do = "insert_sim"\nslot = true\ncarrier = "O2"',
            11,
            "slot: must be an integer, not true/false",
        ),
        ('do = "insert_sim"\nslot = 3\ncarrier = "O2"', 11, "slot must be 1 or 2, got 3"),
        ('do = "insert_sim"\ncarrier = "O2"', 9, "slot is required"),
        ('do = "insert_sim"\nslot = 1\ncarrier = "Cubacell"', 12, "unknown carrier 'Cubacell'"),
        ('do = "insert_sim"\nslot = 1', 9, "give exactly one of: carrier, mcc and mnc"),
        ('do = "insert_sim"\nslot = 1\nmcc = "368"', 9, "give both mcc and mnc"),
        ('do = "insert_sim"\nslot = 1\nmcc = "999"\nmnc = "01"', 9, "invalid MCC/MNC"),
        ('do = "insert_sim"\nslot = 1\ncarrier = "O2"\niccid = "12"', 13, "iccid must be 19-20"),
        ('do = "roam"\nslot = 1', 9, "or home = true"),
        ('do = "airplane"', 9, "on is required"),
        ('do = "advance"', 9, "give the time to pass"),
        ('do = "advance"\ndays = 0', 9, "must be more than 0"),
        ('do = "advance"\ndays = -1', 11, "must not be negative"),
        ('do = "server_fault"\nmode = "slow"', 9, "mode 'slow' needs seconds"),
        ('do = "server_fault"\nmode = "drop"\nseconds = 1', 9, "seconds applies to mode 'slow'"),
        ('do = "server_fault"\nmode = "tamper"', 11, "did you mean 'tampered'?"),
        ('do = "operator_lock"', 9, "reason is required"),
        ('do = "operator_lock"\nreason = " "', 11, "reason: must not be blank"),
        ('do = "operator_release"\nreason = "x"\nby = "imsi"', 12, "did you mean 'imei'?"),
        ('do = "policy_change"', 9, "give exactly one of: file"),
        ('do = "expect"', 9, "an expect step needs at least one expectation"),
        ("expect = {}", 9, "an expect step needs at least one expectation"),
        (
            'do = "boot"\nexpect.screen = "locked"',
            11,
            "unknown value 'locked'; did you mean 'lock'?",
        ),
        (
            'do = "boot"\nexpect.sceen = "lock"',
            11,
            "unknown expectation 'sceen'; did you mean 'screen'?",
        ),
        ('do = "boot"\nexpect.audit = {rulle = "hold"}', 11, "unknown audit field 'rulle'"),
        ('do = "boot"\nexpect.audit = {}', 11, "give at least one of: kind, rule"),
        ('do = "boot"\nexpect.verdict_reason = "locked"', 11, "must be a code like"),
        ('do = "boot"\n[steps.expect]\nstate = "lock"', 12, "did you mean 'locked'?"),
    ],
)
def test_problems_in_a_step_name_the_step_its_kind_and_the_line(
    tmp_path: Path, step: str, line: int, reason: str
) -> None:
    error = step_error(tmp_path, step)
    assert error.step_index == 3
    assert error.line == line, str(error)
    assert reason in error.reason, str(error)


def test_a_policy_change_is_validated_when_the_file_is_read(tmp_path: Path) -> None:
    error = step_error(
        tmp_path, 'do = "policy_change"\npolicy = { enforcement = { delay_dayz = 1 } }'
    )
    assert (error.step_index, error.step_kind, error.line) == (3, "policy_change", 11)
    assert "enforcement.delay_dayz: unknown field" in error.reason
    same_version = (
        'do = "policy_change"\npolicy = { version = "2021-09-sanctions-2", hold_message = "x" }'
    )
    assert "needs a new version" in step_error(tmp_path, same_version).reason


def test_a_policy_change_merges_over_the_policy_in_force_with_a_new_version(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD_STEPS
        + "\n[policy]\nenforcement.delay_days = 1\n"
        + '\n[[steps]]\ndo = "policy_change"\npolicy.enforcement.sim_swap_lifts_lock = true\n',
    )
    scenario = load_scenario(path)
    assert scenario.policy.version == "2021-09-sanctions-2+scenario"
    change = scenario.steps[-1]
    assert change.args["version"] == "2021-09-sanctions-2+scenario+step3"
    enforcement = tomllib.loads(change.args["text"])["enforcement"]
    assert enforcement["delay_days"] == 1 and enforcement["sim_swap_lifts_lock"] is True


def test_a_policy_file_is_read_relative_to_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    write(
        tmp_path,
        dump_toml(default_policy()).replace("delay_days = 3", "delay_days = 0"),
        "policies/p.toml",
    )
    scenario = load_scenario(write(tmp_path, '[policy]\nfile = "policies/p.toml"\n' + GOOD_STEPS))
    assert scenario.policy.source == "file policies/p.toml"
    assert scenario.policy.text is not None and "delay_days = 0" in scenario.policy.text


def test_the_policy_writer_round_trips_the_packaged_policy() -> None:
    policy = default_policy()
    assert tomllib.loads(dump_toml(policy)) == policy


@pytest.mark.parametrize("path", shipped(), ids=lambda p: p.stem)
def test_every_shipped_scenario_parses_and_says_what_it_is(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.description and "\n" not in scenario.description
    assert scenario.steps


def test_a_bad_file_among_good_ones_runs_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[object] = []
    monkeypatch.setattr("phone_sim.scenario.runner.run", lambda *a, **k: ran.append(a))
    good = write(tmp_path, GOOD_STEPS, "good.toml")
    bad = write(tmp_path, GOOD_STEPS + '\n[[steps]]\ndo = "reboot"\nslot = 1\n', "bad.toml")
    args = argparse.Namespace(
        scenario_command="run",
        files=[str(good), str(bad)],
        scenario_server=None,
        scenario_vendor_key=None,
        scenario_admin_token=None,
        scenario_factory=None,
        junit=None,
        ui=False,
        screenshots=None,
        fail_fast=False,
    )
    assert scenario_cli.run_scenario_command(args) == 2
    assert ran == []
    err = capsys.readouterr().err
    assert f"{bad}:11: step 3 (reboot): unknown key 'slot'" in err
    assert "nothing was run" in err


def test_scenarios_that_wait_in_real_time_start_first(tmp_path: Path) -> None:
    # docs/decisions/waiting-scenarios-first.md: a slow server's wait (at most the phone's
    # timeout) passes while the other scenarios run, instead of after them.
    slow = write(
        tmp_path,
        GOOD_STEPS
        + """
        [[steps]]
        do = "server_fault"
        mode = "slow"
        seconds = 5
        """,
        name="slow.toml",
    )
    briefly = write(
        tmp_path,
        "timeout = 0.5\n"
        + GOOD_STEPS
        + """
        [[steps]]
        do = "server_fault"
        mode = "slow"
        seconds = 0.3
        """,
        name="briefly.toml",
    )
    plain = write(tmp_path, GOOD_STEPS, name="plain.toml")
    scenarios = [load_scenario(p) for p in (plain, briefly, plain, slow)]
    # The phone gives up at its timeout (2 s by default), so that is all the slow one waits.
    assert [scenario_cli.real_time_wait(s) for s in scenarios] == [0, 0.3, 0, 2.0]
    assert scenario_cli.start_order(scenarios) == [3, 1, 0, 2]
