"""Below 80x24, the size every screen is laid out for (README), the console stays usable.

Played at 60x20: the console's Unbind button was past the right edge and its reason box four
columns wide. Under 80 columns the reason box now takes a row of its own above the buttons.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.geometry import Region
from textual.widgets import Input

from tests.support.one_phone import OnePhoneWorld
from tests.support.ui_states import STATES, open_state

TINY = (60, 20)


async def test_at_60x20_every_console_control_is_on_screen(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    app, sim = open_state("console", make_sim)
    async with app.run_test(size=TINY) as pilot:
        await STATES["console"].reach(pilot, sim)
        await pilot.pause(0.2)
        screen = app.screen
        problems = []
        for widget in screen.query("#actions Button, #actions Input"):
            geometry = screen.find_widget(widget)
            seen = geometry.region.intersection(geometry.clip)
            if seen != geometry.region or not Region(0, 0, *TINY).contains_region(seen):
                problems.append(
                    f"{type(widget).__name__}#{widget.id} shows {seen} of {geometry.region}"
                )
        assert not problems, "\n".join(problems)
        reason = screen.query_one("#reason", Input)
        assert reason.content_region.width >= 20, f"the reason box is {reason.content_region}"
