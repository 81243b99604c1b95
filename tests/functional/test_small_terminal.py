"""Below 80x24, the size every screen is laid out for (README), the app says so and stays usable.

Played at 60x20: the console's Unbind button was past the right edge and its reason box four
columns wide, the phone's face cut at the bottom, and nothing said why. Now the footer says
``window is 60x20; the phone needs at least 80x24`` on every screen, the console's buttons
stay on screen, and the lock screen still covers the phone while the world's controls work.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual._compositor import MapGeometry
from textual.css.query import NoMatches
from textual.errors import NoWidget
from textual.geometry import Region
from textual.widgets import DataTable, Input, Static

from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.ui.screens.vendor_console_screen import VendorConsoleScreen
from tests.support.one_phone import OnePhoneWorld
from tests.support.ui_states import STATES, in_state, open_state
from tests.support.waits import wait_until

TINY = (60, 20)


def hint_text(app: object) -> str | None:
    """What the footer says about the window's size (None: it says nothing)."""
    hints = app.screen.query("#size-hint")  # type: ignore[attr-defined]
    return str(hints.first(Static).render()) if hints else None


def placed(app: object) -> MapGeometry | None:
    """Where the hint is on the screen (None until the footer's last layout has placed it: the
    footer composes itself again as the screen's keys settle)."""
    screen = app.screen  # type: ignore[attr-defined]
    try:
        return screen.find_widget(screen.query_one("#size-hint"))  # type: ignore[no-any-return]
    except (NoMatches, NoWidget):
        return None


@pytest.mark.parametrize("name", ["home", "lock", "console"])
async def test_below_80x24_the_footer_says_how_large_the_window_is(
    name: str, make_sim: Callable[..., OnePhoneWorld]
) -> None:
    async with in_state(name, make_sim, TINY) as (app, pilot, _sim):
        expected = "window is 60x20; the phone needs at least 80x24"
        await wait_until(pilot, lambda: hint_text(app) == expected and placed(app) is not None)
        geometry = placed(app)
        assert geometry is not None
        assert geometry.region.intersection(geometry.clip) == geometry.region, "the hint is cut"
        assert Region(0, 0, *TINY).contains_region(geometry.region)


async def test_the_hint_comes_and_goes_with_the_terminal_and_the_lock_screen_stays(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("lock", make_sim, (80, 24)) as (app, pilot, _sim):
        assert hint_text(app) is None
        await pilot.resize_terminal(80, 20)  # only the height: the footer's width is the same
        await wait_until(
            pilot, lambda: hint_text(app) == "window is 80x20; the phone needs at least 80x24"
        )
        # The lock screen still covers the phone; the world's controls still work.
        assert isinstance(app.screen, LockScreen)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, VendorConsoleScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
        await pilot.resize_terminal(80, 24)
        await wait_until(pilot, lambda: hint_text(app) is None)


async def test_at_60x20_every_console_control_and_the_audit_trail_are_on_screen(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    app, sim = open_state("console-fleet", make_sim)  # six phones
    async with app.run_test(size=TINY) as pilot:
        await STATES["console-fleet"].reach(pilot, sim)
        await pilot.pause(0.2)
        screen = app.screen
        problems = []
        for widget in screen.query("#actions Button, #actions Input, #audit"):
            geometry = screen.find_widget(widget)
            seen = geometry.region.intersection(geometry.clip)
            if seen != geometry.region or not Region(0, 0, *TINY).contains_region(seen):
                problems.append(
                    f"{type(widget).__name__}#{widget.id} shows {seen} of {geometry.region}"
                )
        assert not problems, "\n".join(problems)
        reason = screen.query_one("#reason", Input)
        assert reason.content_region.width >= 20, f"the reason box is {reason.content_region}"
        # Nothing is pushed below the footer: the screen itself does not scroll.
        assert screen.max_scroll_y == 0, f"the screen scrolls by {screen.max_scroll_y} rows"
        audit = screen.query_one("#audit", DataTable)
        assert audit.scrollable_content_region.height - audit.header_height >= 1
