"""``phone-sim scenario run --ui``: the same steps, played in the real Textual app under Pilot.

Each step goes through the same :class:`PhoneDriver` verbs as a headless run, on the app's own
event loop (so the model is only ever touched from the UI thread); the app then settles and the
runner checks that the screen it actually shows is the screen the phone's state calls for. With
``screenshots`` an SVG of the screen is saved after every step.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import replace
from pathlib import Path

from textual.pilot import Pilot

from phone_sim.device.screens import screen_for
from phone_sim.scenario.driver import PhoneDriver, RemoteServer
from phone_sim.scenario.model import Scenario
from phone_sim.scenario.runner import (
    Output,
    ScenarioResult,
    StepResult,
    divergence,
    driver_for,
    play,
    recording,
    scenario_world,
    step_lines,
    summary_line,
)
from phone_sim.ui.app import SCREEN_CLASSES, Pace, PhoneApp, make_app

SIZE = (100, 42)
#: how long the app may take to show what a step did, in real seconds
SETTLE_TIMEOUT = 10.0


def run_ui(
    scenario: Scenario,
    *,
    server: RemoteServer | None = None,
    screenshots: Path | None = None,
    out: Output = print,
    data_dir: Path | None = None,
) -> ScenarioResult:
    """Run ``scenario`` in the Textual app (headless); print each step through ``out``."""
    return asyncio.run(_run(scenario, server, screenshots, out, data_dir))


async def _settle(app: PhoneApp, driver: PhoneDriver, pilot: Pilot[None]) -> str | None:
    """Wait until the app shows the screen for the phone's state; None, or what is wrong.

    The right screen is not enough for a picture: the step's own messages (a SIM change's
    notice, the refresh of the status bar) must have been handled and drawn too, or the
    screenshot shows the state before the step (issue #15). So once the screen is right, the
    app's message queue is drained, its workers finish, and a repaint goes through.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SETTLE_TIMEOUT
    while True:
        phone = driver.phone
        want = SCREEN_CLASSES[screen_for(phone.state)]
        face = app.screen_stack[1] if len(app.screen_stack) > 1 else None
        idle = phone.pending is None and phone.time_pending is None and app.fast_forward_to is None
        if idle and isinstance(face, want) and getattr(face, "ready", False):
            await pilot.pause()  # every message posted so far is handled
            await app.workers.wait_for_complete()
            await pilot.wait_for_scheduled_animations()
            for screen in app.screen_stack[1:]:
                refresh = getattr(screen, "refresh_face", None)
                if refresh is not None:
                    refresh()  # what the step changed, drawn now rather than at the next timer
            await pilot.pause()
            if phone.pending is None and isinstance(app.screen_stack[1], want):
                return None
            continue
        if loop.time() > deadline:
            shown = type(face).__name__ if face is not None else "nothing"
            return f"the app shows {shown}, the phone's state calls for {want.__name__}"
        await asyncio.sleep(0.02)


def _screenshot_name(index: int, kind: str) -> str:
    return f"{index:02d}-{re.sub(r'[^a-z0-9_]+', '-', kind)}.svg"


async def _run(
    scenario: Scenario,
    server: RemoteServer | None,
    screenshots: Path | None,
    out: Output,
    data_dir: Path | None,
) -> ScenarioResult:
    result = ScenarioResult(scenario)
    emit = recording(result, out)
    started = time.monotonic()
    with scenario_world(scenario, result, emit, server=server, data_dir=data_dir) as world:
        if world is None:
            result.duration = time.monotonic() - started
            return result
        if screenshots is not None:
            # One folder per scenario, so a run of several files keeps every picture.
            screenshots = screenshots / scenario.name
            screenshots.mkdir(parents=True, exist_ok=True)
        # Scenarios start with the phones off: their first steps boot them.
        app = make_app(world.world, pace=Pace.instant(), power_on=False)
        async with app.run_test(size=SIZE) as pilot:
            await _settle(app, driver_for(world, scenario, scenario.steps[0]), pilot)
            diverged = divergence(world)
            for index, step in enumerate(scenario.steps, start=1):
                driver = driver_for(world, scenario, step)
                if app.current_name != driver.name:
                    # The step's phone comes into view, as a person switches phones (n).
                    app.current_name = driver.name
                    app.sync_screen(switched=True)
                step_result = play(driver, step, diverged)
                diverged = diverged or divergence(world, step_result)
                problem = await _settle(app, driver, pilot)
                if problem is not None and step_result.ok:
                    step_result = replace(step_result, ok=False, detail=problem)
                result.steps.append(step_result)
                for line in step_lines(step_result):
                    emit(line)
                if screenshots is not None:
                    app.save_screenshot(_screenshot_name(index, step.kind), str(screenshots))
                if not step_result.ok:
                    break
            await pilot.pause()
    result.duration = time.monotonic() - started
    emit(summary_line(result))
    return result


__all__ = ["StepResult", "run_ui"]
