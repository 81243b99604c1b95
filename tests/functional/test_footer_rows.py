"""The footer keeps every key clear of the others, the palette's docked key included.

A newcomer at 80x24 saw ``v V▏^p palette`` on a two-phone world's lock screen, and ``v Ven``
with the keys panel (f1) open on the home screen: the footer laid its keys on two rows for the
terminal's width, and the palette's key, docked on the right, covered the last column. The
footer now takes as many rows as its keys need beside the palette's key, in its own width.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App
from textual.geometry import Region
from textual.widgets._footer import FooterKey

from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import DeviceState
from phone_sim.ui.app import Pace, make_app
from phone_sim.ui.screens.home_screen import HomeScreen
from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.world.launch import WorldOptions, launch
from tests.functional.conftest import wait_until
from tests.support.ui_states import activate_in_view

SMALL = (80, 24)


def _problems(app: App[object]) -> list[str]:
    """Footer keys cut off by the terminal, or drawn over one another."""
    screen = app.screen
    whole = Region(0, 0, *SMALL)
    placed = [(key, screen.find_widget(key)) for key in screen.query(FooterKey)]
    problems = []
    for n, (key, geometry) in enumerate(placed):
        name = f"{key.key_display} {key.description}"
        if geometry.region.intersection(geometry.clip) != geometry.region:
            problems.append(f"{name} is cut off")
        if not whole.contains_region(geometry.region):
            problems.append(f"{name} is outside the terminal")
        for other, other_geometry in placed[n + 1 :]:
            if geometry.region.overlaps(other_geometry.region):
                problems.append(f"{name} and {other.key_display} {other.description} overlap")
    return problems


async def test_a_two_phone_lock_screen_and_the_keys_panel_keep_every_key_clear(
    tmp_path: Path,
) -> None:
    world = launch(WorldOptions(data=tmp_path / "world", phones=2, speed=0, seed=5))
    app = make_app(world, pace=Pace.instant())
    with world:
        async with app.run_test(size=SMALL) as pilot:
            cuban, german = (p.phone for p in world)
            await activate_in_view(pilot, app, cuban, "Cubacel")
            await pilot.press("a")  # +3 days: the lock lands
            await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
            await wait_until(pilot, lambda: len(app.screen.query(FooterKey)) >= 13)
            await pilot.pause(0.2)
            assert "next_phone" in {key.action for key in app.screen.query(FooterKey)}
            assert not _problems(app), _problems(app)

            await pilot.press("n")  # the other phone, in setup: its home after activating
            await wait_until(pilot, lambda: german.state is DeviceState.SETUP)
            german.insert_sim(1, Sim.of(carrier("Telekom")))
            app.request_activation()
            await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
            await pilot.press("f1")  # the keys panel takes the right of the screen
            await pilot.pause(0.3)
            assert app.screen.query_one("PhoneFooter").size.width < SMALL[0]
            assert not _problems(app), _problems(app)
