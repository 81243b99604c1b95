"""What playing the README's story as a newcomer found, each as that person met it under Pilot.

The story was played in tmux at 80x24 and 120x40; each test here failed before its fix.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.widget import Widget
from textual.widgets import Static

from tests.support.one_phone import OnePhoneWorld
from tests.support.ui_states import STATES, open_state, wait_until

SMALL = (80, 24)


def text(app: object, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())  # type: ignore[attr-defined]


def in_sight(app: object, selector: str) -> bool:
    """The widget lies wholly inside what its scrolling parent shows (not scrolled away)."""
    screen = app.screen  # type: ignore[attr-defined]
    widget: Widget = screen.query_one(selector)
    geometry = screen.find_widget(widget)
    return bool(widget.region.height) and geometry.clip.contains_region(geometry.region)


async def test_the_answer_to_retry_on_the_lock_screen_is_in_sight_at_80x24(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    # Played: locked at 80x24, ctrl+r. The vendor answered, but its answer was below the
    # message and details, scrolled out of the lock screen's body: nothing seemed to happen.
    app, sim = open_state("lock", make_sim)
    async with app.run_test(size=SMALL) as pilot:
        await STATES["lock"].reach(pilot, sim)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: "answered locked" in text(app, "#lock-outcome"))
        await wait_until(pilot, lambda: in_sight(app, "#lock-outcome"))
