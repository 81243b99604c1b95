"""The vendor console keeps its shape whatever the phone showed before, at any terminal width.

Issue #15: once the lock screen had been shown, its stylesheet's bare ``#lock { height: 1fr }``
also styled the console's Lock button (a screen's CSS applies app-wide once loaded): the fleet
rows vanished behind a button filling the pane. And at 100 columns the fleet's last columns were
off screen with no way to scroll to them.

Played with six phones: at 80x24 the fleet showed three of them, squeezed between the policy and
the audit trail; at 120x40 the policy on the right and the phones' names left the fleet 76
columns, and "lock due" lay past the pane's edge. The fleet now has the whole width and two
thirds of the height; the audit trail and the policy are tabs under it.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import Button, ContentSwitcher, DataTable, Static, Tab

from phone_sim.ui.app import Pace, make_app
from phone_sim.ui.widgets.console_rows import FLEET_COLUMNS
from tests.support.console import fleet_cell
from tests.support.one_phone import OnePhoneWorld
from tests.support.ui_states import STATES, fleet_of, in_state, open_state

#: what README's story reads in the fleet, in the order of its columns
STORY_COLUMNS = ("serial", "state", "delivery", "territory", "lock due", "reason")


def column_ends(fleet: DataTable[object]) -> dict[str, int]:
    """Where each column of the fleet ends, counted from its left edge (row labels included)."""
    right = fleet._row_label_column_width if fleet.show_row_labels else 0
    ends = {}
    for column in fleet.ordered_columns:
        right += column.get_render_width(fleet)
        ends[str(column.label)] = right
    return ends


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
    async with in_state("console", make_sim, size) as (app, pilot, _sim):
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
    async with in_state("console", make_sim, (80, 24)) as (app, pilot, _sim):
        fleet = app.screen.query_one("#fleet", DataTable)
        await pilot.pause(0.2)
        ends = column_ends(fleet)
        width = fleet.scrollable_content_region.width
        for label in STORY_COLUMNS[:-1]:
            assert ends[label] <= width, f"{label} ends at {ends[label]} of {width} columns"


@pytest.mark.parametrize("phones", [6, 12])
async def test_at_80x24_the_fleet_has_rows_for_its_phones_and_the_audit_trail_stays(
    phones: int, make_sim: Callable[..., OnePhoneWorld]
) -> None:
    sim = make_sim()
    fleet_of(phones)(sim)
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=(80, 24)) as pilot:
        await STATES["console-fleet"].reach(pilot, sim)
        await pilot.pause(0.2)
        fleet = app.screen.query_one("#fleet", DataTable)
        audit = app.screen.query_one("#audit", DataTable)
        rows = fleet.scrollable_content_region.height - fleet.header_height
        # As many rows as phones, up to half the screen (10 rows); the policy and the audit
        # trail had left it 3.
        assert rows >= min(phones, 10), f"the fleet shows {rows} rows: {fleet.region}"
        # The audit trail keeps its newest entries in sight under it, live.
        entries = audit.scrollable_content_region.height - audit.header_height
        assert entries >= 3, f"the audit trail shows {entries} entries: {audit.region}"
        newest = audit.row_count - 1  # rows one line each
        assert audit.scroll_y <= newest < audit.scroll_y + entries, "the newest entry is hidden"


async def test_at_120x40_the_storys_columns_are_in_sight_beside_the_phones_names(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("console-fleet", make_sim, (120, 40)) as (app, pilot, _sim):
        await pilot.pause(0.2)
        fleet = app.screen.query_one("#fleet", DataTable)
        assert fleet.show_row_labels and str(fleet.get_row_at(0)[0])  # the names are shown
        ends = column_ends(fleet)
        width = fleet.scrollable_content_region.width
        for label in STORY_COLUMNS:
            assert ends[label] <= width, f"{label} ends at {ends[label]} of {width} columns"


async def test_the_policy_in_force_is_a_key_away_from_the_audit_trail(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("console", make_sim, (80, 24)) as (app, pilot, _sim):
        details = app.screen.query_one("#details", ContentSwitcher)
        assert details.current == "audit"
        assert "2021-09-sanctions-2" in app.screen.query_one("#policy-tab", Tab).label.plain
        await pilot.press("P")
        await pilot.pause()
        assert details.current == "policy-scroll"
        policy = app.screen.query_one("#policy", Static)
        assert policy.region.height > 0 and "version" in str(policy.render())
        await pilot.press("P")
        await pilot.pause()
        assert details.current == "audit"
