"""Recording in the TUI: what a user plays exports as a scenario file that replays to the same end."""

from __future__ import annotations

from pathlib import Path

import pytest

from phone_sim.device.state import DeviceState
from phone_sim.scenario.parser import load_scenario
from phone_sim.scenario.runner import run
from phone_sim.ui.app import Pace, make_app
from phone_sim.ui.recorder import Recorder
from phone_sim.ui.screens.home_screen import HomeScreen
from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.ui.screens.setup_screen import SetupScreen
from phone_sim.ui.screens.sim_tray_screen import SimTrayScreen
from tests.functional.conftest import wait_until
from tests.support.navigate import press_from
from tests.support.one_phone import OnePhoneWorld


@pytest.mark.slow
async def test_a_played_story_exports_and_replays_to_the_same_end(
    sim: OnePhoneWorld, tmp_path: Path
) -> None:
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=(100, 42)) as pilot:
        await press_from(pilot, SetupScreen, "t", SimTrayScreen)
        await pilot.press(*["down"] * 6, "enter", "escape")  # Cubacel in slot 1
        await pilot.press("enter", "enter", "enter")  # through setup: activation
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen) and app.screen.ready)
        await pilot.press("a")  # three days later
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
        await wait_until(pilot, lambda: sim.phone.pending is None and app.fast_forward_to is None)
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: (sim.data_dir / "recordings" / "recording-1.toml").exists())
    recorded = sim.data_dir / "recordings" / "recording-1.toml"
    text = recorded.read_text()
    assert 'do = "insert_sim"' in text and 'carrier = "Cubacel"' in text
    assert 'do = "activate"' in text and "seconds = 259200" in text
    assert 'state = "locked", screen = "lock"' in text
    lines: list[str] = []
    result = run(load_scenario(recorded), out=lines.append, data_dir=tmp_path / "replay")
    assert result.passed, "\n".join(lines)
    assert sim.phone.state is DeviceState.LOCKED


def test_a_recording_begun_on_a_phone_already_set_up_replays_without_a_failing_end(
    sim: OnePhoneWorld, tmp_path: Path
) -> None:
    # Played: a phone activated in an earlier run, `a`, ctrl+s, then `scenario run` on the
    # file: "expect state=activated ... FAILED: state is setup". The replay's phone is new, so
    # the end the played phone reached is kept as a comment.
    recorder = Recorder(sim.world.clock, sim.phone.identity, fresh=False)
    recorder.advanced(3 * 86_400)
    recorded = tmp_path / "recording.toml"
    recorded.write_text(recorder.to_toml(state="locked", screen="lock"))
    text = recorded.read_text()
    assert "# The end this phone reached:" in text
    assert '# expect = { state = "locked", screen = "lock" }' in text
    lines: list[str] = []
    result = run(load_scenario(recorded), out=lines.append, data_dir=tmp_path / "replay")
    assert result.passed, "\n".join(lines)
    # A recording from a new phone keeps its end as a step, which the replay checks.
    fresh = Recorder(sim.world.clock, sim.phone.identity).to_toml(state="locked", screen="lock")
    assert '\nexpect = { state = "locked", screen = "lock" }' in fresh
