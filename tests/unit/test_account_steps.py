"""Version 2's scenario steps and expectations as files write them: checked, and never printing a
password."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from phone_sim.scenario.errors import ScenarioError
from phone_sim.scenario.parser import parse_scenario
from phone_sim.scenario.runner import step_label

STEPS = """
[[steps]]
do = "sign_in"
account = "alice@example.com"
password = "correct-horse-9"
find_device = false
expect = { signed_in = "alice@example.com", server_account = "bound" }

[[steps]]
do = "unlock_account"
account = "alice@example.com"
password = "correct-horse-9"
expect = { account_locked = false }

[[steps]]
do = "operator_unblock_code"
challenge = "2021 0913"

[[steps]]
do = "enter_unblock_code"
code = "7113 6057"
expect = { unblock_attempts_left = 5 }
"""


def parse(text: str) -> object:
    return parse_scenario(textwrap.dedent(text), path=Path("s.toml"))


def test_the_steps_parse_and_their_labels_hide_the_password() -> None:
    scenario = parse(STEPS)
    labels = [step_label(step) for step in scenario.steps]  # type: ignore[attr-defined]
    assert labels == [
        'sign_in account="alice@example.com" password="***" find_device=false',
        'unlock_account account="alice@example.com" password="***"',
        'operator_unblock_code challenge="2021 0913"',
        'enter_unblock_code code="7113 6057"',
    ]
    assert all("correct-horse" not in label for label in labels)


@pytest.mark.parametrize(
    ("step", "problem"),
    [
        ('do = "sign_in"\naccount = "alice@example.com"\npassword = "short"', "8 to 128"),
        ('do = "sign_in"\naccount = "a b"\npassword = "correct-horse-9"', "account name"),
        ('do = "sign_out"', "password"),
        ('do = "enter_unblock_code"\ncode = "1234"', "8 digits"),
        ('do = "operator_unblock_code"\nchallenge = "abcdefgh"', "8 digits"),
        ('do = "expect"\nexpect.unblock_attempts_left = -1', "0 or more"),
        ('do = "expect"\nexpect.server_account = "maybe"', "unknown value 'maybe'"),
    ],
)
def test_bad_arguments_are_reported_at_their_line(step: str, problem: str) -> None:
    with pytest.raises(ScenarioError, match=problem):
        parse(f"[[steps]]\n{step}\n")
