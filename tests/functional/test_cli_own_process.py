"""`phone-sim` as a program freezes the collector's heap: `scenario run` once its imports and files
are loaded, every command on its way out (docs/decisions/gc-freeze-in-our-own-processes.md);
called from other code (these tests), it changes nothing process-wide."""

from __future__ import annotations

import gc
import sys

import pytest

from phone_sim import cli

SCENARIO = "activated-in-germany"


@pytest.fixture
def freezes(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> list[str]:
    """What the command had printed at each ``gc.freeze()`` (none is really made)."""
    made: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: made.append(capsys.readouterr().out))
    return made


def test_scenario_run_freezes_before_the_first_scenario_runs(freezes: list[str]) -> None:
    assert cli.main(["scenario", "run", SCENARIO], own_process=True) == 0
    # Once, before anything was printed: the scenarios ran after it.
    assert freezes == [""]


def test_called_from_other_code_nothing_is_frozen(
    freezes: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["scenario", "run", SCENARIO]) == 0
    assert "PASSED" in capsys.readouterr().out
    assert freezes == []


def test_the_program_freezes_on_its_way_out(
    freezes: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["phone-sim", "catalogue"])
    assert cli.entry() == 0
    # After the command: everything it printed was printed before the freeze.
    assert len(freezes) == 1 and "Carriers:" in freezes[0]
