"""The vendor console keeps its shape whatever the phone showed before, at any terminal width.

Issue #15: once the lock screen had been shown, its stylesheet's bare ``#lock { height: 1fr }``
also styled the console's Lock button (a screen's CSS applies app-wide once loaded): the fleet
rows vanished behind a button filling the pane. And at 100 columns the fleet's last columns were
off screen with no way to scroll to them.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import Button, DataTable

from phone_sim.ui.widgets.console_rows import FLEET_COLUMNS
from tests.support.console import fleet_cell
from tests.support.one_phone import OnePhoneWorld
from tests.support.ui_states import STATES, open_state


async def test_console_after_the_lock_screen_shows_its_fleet_and_a_normal_lock_button(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    app, sim = open_state("console", make_sim)  # reaching it shows the lock screen first
    async with app.run_test(size=(120, 40)) as pilot:
        await STATES["console"].reach(pilot, sim)
        await pilot.pause(0.2)
        fleet = app.screen.query_one("#fleet", DataTable)
        lock = app.screen.query_one("#lock", Button)
        assert fleet.row_count == 1
        assert fleet.region.height >= 3, f"the fleet table is squeezed to {fleet.region}"
        assert lock.region.height == 1, f"the Lock button is {lock.region.height} rows tall"
        assert fleet_cell(fleet, "state") == "locked"


@pytest.mark.slow  # over 2 s of CPU or 10 s of wall (tests/support/cpu_budget.py)
@pytest.mark.parametrize("size", [(80, 24), (100, 32), (200, 50)])
async def test_every_fleet_column_can_be_scrolled_into_view(
    size: tuple[int, int], make_sim: Callable[..., OnePhoneWorld]
) -> None:
    app, sim = open_state("console", make_sim)
    async with app.run_test(size=size) as pilot:
        await STATES["console"].reach(pilot, sim)
        fleet = app.screen.query_one("#fleet", DataTable)
        fleet.focus()
        await pilot.pause()
        # A user scrolls the table sideways with the arrow keys until nothing more comes.
        width = fleet.scrollable_content_region.width
        for _ in range(150):  # one column a press; the fleet has grown wide
            if fleet.scroll_x + width >= fleet.virtual_size.width:
                break
            await pilot.press("right")
            await pilot.pause(0.1)  # each press scrolls a little, with a short animation
        assert fleet.scroll_x + width >= fleet.virtual_size.width, (
            f"at {size} the table shows columns up to {fleet.scroll_x + width} "
            f"of {fleet.virtual_size.width}"
        )
        last = fleet.ordered_columns[-1]
        assert str(last.label) == FLEET_COLUMNS[-1][0]
        region = app.screen.find_widget(fleet)
        assert region.region.right <= size[0], "the table itself runs off the screen"


async def test_at_80x24_the_storys_columns_are_in_sight_without_scrolling(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    # Played at 80x24: README step 4 names the phone's territory and when its lock falls due;
    # both were past the right edge until Right was pressed about thirty times.
    app, sim = open_state("console", make_sim)
    async with app.run_test(size=(80, 24)) as pilot:
        await STATES["console"].reach(pilot, sim)
        fleet = app.screen.query_one("#fleet", DataTable)
        await pilot.pause(0.2)
        right = fleet._row_label_column_width if fleet.show_row_labels else 0
        ends = {}
        for column in fleet.ordered_columns:
            right += column.get_render_width(fleet)
            ends[str(column.label)] = right
        width = fleet.scrollable_content_region.width
        for label in ("serial", "state", "delivery", "territory", "lock due"):
            assert ends[label] <= width, f"{label} ends at {ends[label]} of {width} columns"
