"""Every shipped scenario, played in the real Textual app (``scenario run --ui``)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from phone_sim.scenario.library import resolve, shipped
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


def svg_text(path: Path) -> str:
    """The characters an SVG screenshot shows, in order (Textual writes spaces as &#160;)."""
    parts = re.findall(r">([^<]*)</text>", path.read_text())
    return html.unescape("".join(parts)).replace("\xa0", " ")


def test_each_screenshot_shows_the_state_after_its_step(tmp_path: Path) -> None:
    # Issue #15: after a SIM removal and a swap the pictures still showed the old SIM, taken
    # before the app had drawn what the step did.
    result = run_ui(load_scenario(resolve("sim-swap-on-lock-screen")), screenshots=tmp_path)
    assert result.passed
    pictures = sorted((tmp_path / result.scenario.name).glob("*.svg"))
    shown = [svg_text(p) for p in pictures]
    assert "1:Cubacel" in shown[1]  # insert_sim
    assert "1:no SIM" in shown[4] and "2:no SIM" in shown[4]  # remove_sim
    assert "1:no SIM" in shown[5] and "2:Telekom" in shown[5]  # insert_sim slot 2
    assert "1:Telekom" in shown[6] and "2:no SIM" in shown[6]  # swap_sims
