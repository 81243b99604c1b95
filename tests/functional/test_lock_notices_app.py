"""Issue #18 in the real app under Pilot: the vendor's notice dismissed with a key (and
recorded), its reminder standing, the lock screen's contact line, and the console's delivery
column following a hold from pending to delivered."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.containers import Horizontal
from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

from phone_sim.device.offline import WarningKind
from phone_sim.device.state import DeviceState
from phone_sim.ui.screens.home_screen import HomeScreen
from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.ui.screens.vendor_console_screen import VendorConsoleScreen
from phone_sim.ui.widgets.console_rows import FLEET_COLUMNS, delivery_cell
from server_stub.admin.models import DeliveryView
from tests.support.console import fleet_cell
from tests.support.one_phone import OnePhoneWorld
from tests.support.ui_states import in_state, is_screen, wait_until


def footer_actions(app: object) -> set[str]:
    screen = app.screen  # type: ignore[attr-defined]
    return {key.action.removeprefix("screen.") for key in screen.query(FooterKey)}


async def test_the_notice_is_dismissed_with_d_and_stays_dismissed(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("home-notice", make_sim, (80, 24)) as (app, pilot, sim):
        box = app.screen.query_one("#warning-box", Horizontal)
        assert box.display and box.has_class("-notice")
        assert "will be locked in two days" in str(
            app.screen.query_one("#warning", Static).render()
        )
        assert "dismiss_notice" in footer_actions(app)
        await pilot.press("d")
        await wait_until(pilot, lambda: not box.display)
        assert sim.phone.warning is None and sim.phone.persisted.notice_dismissed
        await pilot.pause(0.1)
        assert "dismiss_notice" not in footer_actions(app)  # nothing left to dismiss
        assert ("dismiss_notice", {}) in app.recorder.steps
        # The app's heartbeat runs the phone's rules again and again: it stays dismissed.
        await pilot.pause(0.5)
        assert sim.phone.warning is None and not box.display


async def test_the_reminder_stands_and_offers_no_dismissal(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("home-reminder", make_sim, (80, 24)) as (app, pilot, sim):
        assert sim.phone.warning is not None
        assert sim.phone.warning.kind is WarningKind.LOCK_REMINDER
        assert not app.screen.query_one("#dismiss-notice").display
        assert "dismiss_notice" not in footer_actions(app)
        await pilot.press("d")  # not offered: nothing happens
        await pilot.pause(0.1)
        assert sim.phone.warning is not None and isinstance(app.screen, HomeScreen)
        assert "locked tomorrow" in str(app.screen.query_one("#warning", Static).render())


async def test_the_lock_screen_shows_the_vendors_contact(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("lock-contact", make_sim, (80, 24)) as (app, _pilot, _sim):
        assert isinstance(app.screen, LockScreen)
        contact = app.screen.query_one("#lock-contact", Static)
        assert contact.display
        text = str(contact.render())
        assert "+86 400 100 5678" in text and "service.global@xiaomi.example" in text


async def test_the_lock_screen_shows_no_contact_line_when_the_vendor_gives_none(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("lock", make_sim, (80, 24)) as (app, _pilot, _sim):
        assert not app.screen.query_one("#lock-contact", Static).display


@pytest.mark.slow  # over 2 s of CPU or 10 s of wall (tests/support/cpu_budget.py)
async def test_the_console_shows_a_hold_pending_then_delivered(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("console-pending", make_sim, (120, 40)) as (app, pilot, sim):
        fleet = app.screen.query_one("#fleet", DataTable)
        assert (fleet_cell(fleet, "state"), fleet_cell(fleet, "delivery")) == (
            "held",
            "lock pending",
        )
        await pilot.press("escape")  # back to the phone, which asks the vendor now
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        app.request_activation()  # type: ignore[attr-defined]
        await wait_until(pilot, lambda: sim.phone.state is DeviceState.LOCKED)
        # The lock screen up and focused first: a key pressed while the home screen was still
        # being replaced went to it, and no console opened (seen under load).
        await wait_until(pilot, lambda: is_screen(LockScreen)(pilot))
        await wait_until(pilot, lambda: getattr(app.focused, "screen", None) is app.screen)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, VendorConsoleScreen))
        fleet = app.screen.query_one("#fleet", DataTable)
        await wait_until(
            pilot,
            lambda: (
                fleet.row_count == 1 and str(fleet_cell(fleet, "delivery")).startswith("lock ✓")
            ),
        )
        assert fleet_cell(fleet, "delivery") == "lock ✓ 01 Sep 12:00"


def test_the_delivery_column_holds_its_longest_value() -> None:
    # "release ✓ 04 Sep 12:00" was cut to "release ✓ 04 Sep 12:" in a column of 20.
    longest = delivery_cell(
        DeliveryView(
            kind="release", state="delivered", decided_at=None, delivered_at=1630757000, sequence=9
        )
    )
    assert longest == "release ✓ 04 Sep 12:03"
    assert dict(FLEET_COLUMNS)["delivery"] >= len(longest)
