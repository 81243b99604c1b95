"""Scenario files with several phones: ``[[phone]]`` tables, each named, and steps that name the
phone they act on; the one-phone form (``[device]``, or nothing) keeps working unchanged."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from phone_sim.scenario.errors import ScenarioError
from phone_sim.scenario.parser import load_scenario
from phone_sim.scenario.steps import StepName

PHONES = """
[[phone]]
name = "alice"

[[phone]]
name = "bob"
model = "Redmi 9A"
market = "IN"
"""


def load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "s.toml"
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return load_scenario(path)


def error_for(tmp_path: Path, text: str) -> str:
    with pytest.raises(ScenarioError) as caught:
        load(tmp_path, text)
    return str(caught.value)


def test_phones_are_named_and_steps_name_theirs(tmp_path: Path) -> None:
    scenario = load(
        tmp_path,
        PHONES
        + """
        [[steps]]
        do = "boot"
        phone = "bob"

        [[steps]]
        do = "advance"
        days = 1

        [[steps]]
        phone = "alice"
        expect.screen = "off"
        """.replace("\n        ", "\n"),
    )
    assert [(p.name, p.device.model, p.device.market) for p in scenario.phones] == [  # type: ignore[attr-defined]
        ("alice", "Redmi Note 9", "MI"),
        ("bob", "Redmi 9A", "IN"),
    ]
    steps = scenario.steps  # type: ignore[attr-defined]
    assert [(s.kind, s.phone) for s in steps] == [
        (StepName.BOOT, "bob"),
        (StepName.ADVANCE, None),
        (StepName.EXPECT, "alice"),
    ]
    assert [scenario.phone_of(s) for s in steps] == ["bob", "alice", "alice"]  # type: ignore[attr-defined]


def test_the_one_phone_form_is_unchanged(tmp_path: Path) -> None:
    scenario = load(tmp_path, '[device]\nmodel = "Mi 10T"\n\n[[steps]]\ndo = "boot"\n')
    assert [(p.name, p.device.model) for p in scenario.phones] == [("phone", "Mi 10T")]  # type: ignore[attr-defined]
    assert scenario.steps[0].phone is None  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            '[[steps]]\ndo = "boot"\n',
            "s.toml:9: step 1 (boot): say which phone: phone = 'alice' or 'bob'",
        ),
        ('[[steps]]\ndo = "advance"\ndays = 1\nexpect.screen = "home"\n', "say which phone"),
        ('[[steps]]\nexpect.screen = "home"\n', "say which phone"),
        ('[[steps]]\ndo = "boot"\nphone = "alcie"\n', "did you mean 'alice'?"),
    ],
    ids=["a phone step", "a world step with expectations", "an expect step", "a misspelt name"],
)
def test_a_step_that_does_not_say_which_phone_is_refused(
    tmp_path: Path, steps: str, message: str
) -> None:
    assert message in error_for(tmp_path, PHONES + "\n" + steps)


def test_two_phones_of_one_name_and_device_with_phones_are_refused(tmp_path: Path) -> None:
    twice = (
        '[[phone]]\nname = "a"\n\n[[phone]]\nname = "a"\n\n[[steps]]\ndo = "boot"\nphone = "a"\n'
    )
    assert "two phones are called 'a'" in error_for(tmp_path, twice)
    both = '[device]\nmodel = "Mi 10T"\n\n[[phone]]\nname = "a"\n\n[[steps]]\ndo = "boot"\n'
    assert "not both" in error_for(tmp_path, both)
    bad = '[[phone]]\nname = "a b"\n\n[[steps]]\ndo = "boot"\n'
    assert "letters, digits" in error_for(tmp_path, bad)
