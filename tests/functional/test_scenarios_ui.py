"""Every shipped scenario, played in the real Textual app (``scenario run --ui``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from phone_sim.scenario.library import shipped
from phone_sim.scenario.parser import load_scenario
from phone_sim.scenario.ui_runner import run_ui


@pytest.mark.slow
@pytest.mark.parametrize("path", shipped(), ids=lambda p: p.stem)
def test_shipped_scenario_passes_in_the_app(path: Path, tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_ui(load_scenario(path), screenshots=tmp_path / "shots", out=lines.append)
    assert result.passed, "\n".join(lines)
    pictures = sorted((tmp_path / "shots" / result.scenario.name).glob("*.svg"))
    assert len(pictures) == len(result.steps)
    assert all(p.read_text().startswith("<svg") for p in pictures)


def test_the_app_must_show_the_screen_the_expectation_names(tmp_path: Path) -> None:
    scenario = tmp_path / "wrong.toml"
    scenario.write_text(
        'description = "expects home while still in setup"\n'
        '[[steps]]\ndo = "boot"\nexpect.screen = "home"\n'
    )
    lines: list[str] = []
    result = run_ui(load_scenario(scenario), out=lines.append)
    assert not result.passed
    assert result.failed_step is not None and result.failed_step.step.kind == "boot"
