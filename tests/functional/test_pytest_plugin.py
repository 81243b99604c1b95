"""The pytest plugin as a user meets it: a test file of their own using its fixtures."""

from __future__ import annotations

import textwrap

import pytest

pytest_plugins = ["pytester"]

USER_TESTS = """
import requests


def test_a_cuban_phone_is_locked_three_days_after_activation(phone):
    phone.boot()
    phone.insert_sim(1, carrier="Cubacel")
    phone.activate()
    assert phone.screen == "home"
    phone.advance(days=3)
    phone.check(screen="lock", verdict_reason="EMBARGOED_TERRITORY")
    assert "does not permit" in phone.lock_message


def test_a_region_locked_china_phone(make_phone):
    phone = make_phone("Mi 10T", "CN", policy={"region_lock": {"CN": "first_sim"}})
    phone.boot()
    phone.insert_sim(1, carrier="Telekom")
    phone.activate()
    assert phone.expect_verdict_reason("REGION_LOCKED").ok


def test_a_shipped_scenario_and_a_file_of_my_own(run_scenario):
    assert run_scenario("tourist-roaming-after-activation").passed
    assert run_scenario("scenarios/mine.toml").passed


def test_the_vendor_server_answers(vendor_server):
    health = requests.get(vendor_server.url + "/v1/health", timeout=5).json()
    assert health["status"] == "ok"
"""

MINE = """
description = "my own"

[[steps]]
do = "boot"
expect.screen = "setup"
"""

WRONG = """
[[steps]]
do = "boot"
expect.screen = "home"
"""


@pytest.fixture(autouse=True)
def user_config(pytester: pytest.Pytester) -> None:
    # The user's own pytest configuration (pytest-asyncio warns without this setting).
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")


def test_a_users_tests_use_phone_make_phone_run_scenario_and_vendor_server(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_user=USER_TESTS)
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "mine.toml").write_text(textwrap.dedent(MINE))
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_run_scenario_fails_the_test_with_the_run_printed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_user='def test_it(run_scenario):\n    run_scenario("wrong.toml")\n')
    (pytester.path / "wrong.toml").write_text(WRONG)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*scenario wrong failed:*",
            "*1. boot ... ok: screen setup",
            "*expect screen=home ... FAILED: screen is setup (state setup)",
        ]
    )


def test_phone_check_names_every_expectation_that_failed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user=(
            "def test_it(phone):\n"
            "    phone.boot()\n"
            '    phone.check(screen="home", state="setup", verdict_reason="ACTIVATION_OK")\n'
        )
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*ExpectationFailed: screen='home': screen is setup*verdict_reason='ACTIVATION_OK'*"]
    )
