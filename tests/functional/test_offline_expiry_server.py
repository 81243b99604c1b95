"""Through the real vendor server (scenarios, headless): the offline warning is observable, an
expired verdict falls under the offline rule (PROTOCOL.md section 8.1), and six months without
the vendor are survived. The same rules on the model alone: ``tests/unit/test_offline_expiry.py``.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from phone_sim.scenario.library import resolve
from phone_sim.scenario.parser import load_scenario
from phone_sim.scenario.runner import ScenarioResult, run


def _run(tmp_path: Path, text: str) -> ScenarioResult:
    path = tmp_path / "scenario.toml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return run(load_scenario(path), out=lambda line: None)


def test_the_offline_scenario_fails_when_the_warning_is_turned_off(tmp_path: Path) -> None:
    # The shipped scenario once passed with its warning off: the "⚠" it looked for was the
    # failed check-ins' mark. Now it expects the warning itself.
    shipped = resolve("offline-lock").read_text(encoding="utf-8")
    assert "warn_days_before = 1" in shipped
    result = _run(tmp_path, shipped.replace(", warn_days_before = 1", ""))
    assert not result.passed
    failed = result.failed_step
    assert failed is not None and failed.step.kind == "advance"
    assert [c.ok for c in failed.checks] == [True, False, False], result.output
    assert "expect warning_contains=" in result.lines[-1]
    assert "no warning is shown" in result.lines[-1]


def test_a_flagged_phone_cut_off_from_its_vendor_locks_when_its_verdict_expires(
    tmp_path: Path,
) -> None:
    # The review's case: a phone flagged at activation (the lock falls due at the third day's
    # check-in), the vendor blocked from then on, an offline rule of 30 days. It stayed
    # activated for those 30 days; now it locks when its last verdict (7 days) expires.
    result = _run(
        tmp_path,
        """
        [policy]
        offline = { lock_after_days = 30, warn_days_before = 3 }

        [[steps]]
        do = "boot"

        [[steps]]
        do = "insert_sim"
        slot = 1
        carrier = "Cubacel"

        [[steps]]
        do = "activate"
        expect.screen = "home"
        expect.server_state = "flagged"

        [[steps]]
        do = "server_down"

        [[steps]]
        do = "advance"
        days = 3
        hours = 23
        expect.screen = "home"
        expect.warning = false

        [[steps]]
        do = "advance"
        hours = 1
        expect.screen = "home"
        expect.warning_contains = "this device locks on 08 Sep 2021 12:00 UTC"

        [[steps]]
        do = "advance"
        days = 3
        expect.screen = "lock"
        expect.verdict_reason = "OFFLINE_TOO_LONG"
        expect.lock_message_contains = "since its activation expired on 08 Sep 2021 12:00 UTC"

        [[steps]]
        do = "server_up"

        [[steps]]
        do = "check_in"
        expect.screen = "lock"
        expect.verdict_reason = "EMBARGOED_TERRITORY"
        expect.server_state = "locked"
        """,
    )
    assert result.passed, result.output


def test_without_an_offline_rule_an_expired_verdict_keeps_the_phone_and_warns(
    tmp_path: Path,
) -> None:
    result = _run(
        tmp_path,
        """
        [[steps]]
        do = "boot"

        [[steps]]
        do = "insert_sim"
        slot = 1
        carrier = "Cubacel"

        [[steps]]
        do = "activate"
        expect.screen = "home"
        expect.server_state = "flagged"

        [[steps]]
        do = "server_down"

        [[steps]]
        do = "advance"
        days = 30
        expect.screen = "home"
        expect.warning_contains = "could not be confirmed since 08 Sep 2021 12:00 UTC"
        expect.status_bar_contains = "⚠ unconfirmed"

        # No one presses Retry: the phone's own back-off reaches the vendor once it is back.
        [[steps]]
        do = "server_up"

        [[steps]]
        do = "advance"
        hours = 6
        expect.screen = "lock"
        expect.verdict_reason = "EMBARGOED_TERRITORY"
        expect.warning = false
        """,
    )
    assert result.passed, result.output


@pytest.mark.slow  # over 2 s of CPU or 10 s of wall (tests/support/cpu_budget.py)
def test_six_months_without_the_vendor(tmp_path: Path) -> None:
    # About a thousand failed check-ins (each a real connection refused), the back-off at its
    # six-hour ceiling; then the vendor is back and the phone's next retry reaches it.
    result = _run(
        tmp_path,
        """
        [[steps]]
        do = "boot"

        [[steps]]
        do = "insert_sim"
        slot = 1
        carrier = "Telekom"

        [[steps]]
        do = "activate"
        expect.screen = "home"

        [[steps]]
        do = "server_down"

        [[steps]]
        do = "advance"
        days = 183
        expect.screen = "home"
        expect.warning_contains = "could not be confirmed"

        [[steps]]
        do = "server_up"

        [[steps]]
        do = "advance"
        hours = 6
        expect.screen = "home"
        expect.verdict_reason = "ACTIVATION_OK"
        expect.warning = false
        """,
    )
    assert result.passed, result.output
    # "979 check-ins: error: vendor server unreachable ..."
    tries = result.steps[4].detail
    assert int(tries.split()[0]) > 900 and "unreachable" in tries, tries
