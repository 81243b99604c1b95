"""Toasts stand above the footer, however many rows it takes.

A newcomer at 80x24 saw each toast ("SIM 1: Telekom removed") cover the right end of the
footer's first row for seconds: Textual keeps its toasts one row above the bottom, made for a
one-row footer, and ours wraps onto 2 rows there (3 or 4 with the keys panel open beside it).
The 80x24 test of every screen (test_screen_sizes.py) makes the same check on each one.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets._toast import Toast

from phone_sim.ui.widgets.footer import PhoneFooter
from tests.support.one_phone import OnePhoneWorld
from tests.support.toasts import toast_problems
from tests.support.ui_states import in_state, wait_until

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


@pytest.mark.parametrize("size", SIZES)
async def test_a_toast_on_the_lock_screen_leaves_the_footer_in_sight(
    size: tuple[int, int], make_sim: Callable[..., OnePhoneWorld]
) -> None:
    async with in_state("lock", make_sim, size, notifications=True) as (app, pilot, _sim):
        for panel in (False, True):
            if panel:
                await pilot.press("f1")  # the keys panel narrows the footer: more rows
            footer = app.screen.query_one(PhoneFooter)
            app.clear_notifications()
            app.notify("Wi-Fi: connected (simulated).", timeout=60)
            await wait_until(pilot, lambda: bool(app.screen.query(Toast)))
            await pilot.pause(0.2)  # the footer's rows and the rack's margin, laid out
            rows = footer.outer_size.height
            # the lock screen's footer wraps at both sizes (4 rows beside the panel at 80x24)
            assert rows >= 2, rows
            assert not toast_problems(app), (rows, toast_problems(app))
