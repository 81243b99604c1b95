"""The registry of scenario steps: one entry per step name, closed argument models, documented."""

from __future__ import annotations

from pathlib import Path

import pytest

from phone_sim.scenario.schema import KIND_OF
from phone_sim.scenario.step_args import StepArgs
from phone_sim.scenario.steps import STEPS, StepKind, StepName, _registry

REFERENCE = Path(__file__).parents[2] / "docs" / "SCENARIOS.md"


def test_every_step_name_has_one_entry_in_the_order_of_the_names() -> None:
    assert list(STEPS) == list(StepName)
    assert all(kind.name is name for name, kind in STEPS.items())


def test_the_registry_refuses_a_missing_or_a_second_entry() -> None:
    entries = list(STEPS.values())
    with pytest.raises(AssertionError, match="exactly one entry"):
        _registry(*entries[1:])
    with pytest.raises(AssertionError, match="exactly one entry"):
        _registry(*entries, entries[0])


@pytest.mark.parametrize("kind", STEPS.values(), ids=lambda k: k.name.value)
def test_each_kind_takes_closed_strict_arguments(kind: StepKind[StepArgs]) -> None:
    assert issubclass(kind.args, StepArgs)
    assert (kind.args.model_config["extra"], kind.args.model_config["strict"]) == ("forbid", True)


def test_each_kind_has_one_step_model_in_files_with_its_arguments_then_do_and_expect() -> None:
    assert sorted(k.name for k in KIND_OF.values()) == sorted(StepName)
    for model, kind in KIND_OF.items():
        assert list(model.model_fields) == [*kind.args.model_fields, "do", "phone", "expect"]


def test_the_reference_lists_every_step() -> None:
    # docs/SCENARIOS.md section 3: one table row per step, `| \`name\` | arguments | does |`.
    rows = [line for line in REFERENCE.read_text().splitlines() if line.startswith("| `")]
    documented = {row.split("`")[1] for row in rows}
    assert set(StepName) <= documented
