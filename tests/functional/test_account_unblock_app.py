"""The account lock and the unblock code in the real app under Pilot, against the real vendor.

Each test plays what a user (and the vendor's support, at the console) does with keys: the
operator reads the challenge, makes the code, the user types it on the lock screen; setup stops
at "This device is locked" and the password goes in; the Mi Account dialog signs in; the
console unbinds. What the app records as a scenario never holds a password.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import DataTable, OptionList

from phone_sim.device.state import DeviceState
from phone_sim.ui.app import Pace, make_app
from phone_sim.ui.screens.home_screen import HomeScreen
from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.ui.screens.setup_screen import SetupScreen
from phone_sim.ui.screens.unblock_code_screen import UnblockCodeScreen
from phone_sim.ui.screens.vendor_console_screen import VendorConsoleScreen
from tests.functional.conftest import wait_until
from tests.support.console import fleet_cell
from tests.support.navigate import open_account_dialog
from tests.support.one_phone import OnePhoneWorld
from tests.support.ui_states import ACCOUNT, PASSWORD, _account_locked, _activated, _locked
from tests.support.waits import focused_on_screen, on_screen

SIZE = (100, 42)


@pytest.mark.slow  # over 2 s of CPU or 10 s of wall (tests/support/cpu_budget.py)
async def test_the_code_goes_from_the_console_to_the_lock_screen(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    sim = make_sim()
    _locked(sim)
    challenge = sim.phone.unblock_challenge
    assert challenge is not None
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, LockScreen)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, VendorConsoleScreen))
        fleet = app.screen.query_one("#fleet", DataTable)
        await wait_until(pilot, lambda: fleet.row_count == 1)
        await pilot.press("c")
        await wait_until(pilot, lambda: isinstance(app.screen, UnblockCodeScreen))
        await focused_on_screen(pilot)
        await pilot.press(*challenge[:4], "space", *challenge[4:], "enter")
        await wait_until(pilot, lambda: app.recovery.console_code is not None)
        code = app.recovery.console_code
        assert code is not None
        await pilot.press("escape")  # the dialog
        await wait_until(pilot, lambda: isinstance(app.screen, VendorConsoleScreen))
        await pilot.press("escape")  # the console
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
        await focused_on_screen(pilot)
        await pilot.press("c")  # into the code box
        await wait_until(pilot, lambda: getattr(app.focused, "id", None) == "unblock-code")
        await pilot.press(*code, "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
    # Unlocked by the code, the phone (in reach here) asked at once and the vendor, which had
    # released it when the code was made, said so.
    assert sim.phone.state is DeviceState.ACTIVATED and sim.phone.lock_reason == "RELEASED"
    last = sim.phone.exchanges[-1].verdict
    assert last is not None and (last.status.value, last.reason) == ("activated", "RELEASED")
    # Recorded so that a replay's operator makes its own code for its own phone's challenge.
    kinds = [(kind, args) for kind, args in app.recorder.steps if "unblock" in kind]
    assert kinds == [("operator_unblock_code", {}), ("enter_unblock_code", {})]


async def test_a_wrong_code_on_the_lock_screen_says_how_many_attempts_are_left(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    sim = make_sim()
    _locked(sim)
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, LockScreen)
        await pilot.press("c")  # into the code box
        await pilot.press(*"00000000", "enter")
        status = app.screen.query_one("#unblock-status")
        await wait_until(pilot, lambda: "4 attempt(s) left" in str(status.render()))
        assert isinstance(app.screen, LockScreen)
    assert sim.phone.unblock_attempts_left() == 4
    assert app.recorder.steps[-1] == ("enter_unblock_code", {"code": "00000000"})


async def test_setup_stops_at_this_device_is_locked_until_the_password(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    sim = make_sim()
    _account_locked(sim)
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, SetupScreen)
        screen = app.screen
        assert isinstance(screen, SetupScreen) and screen.step == "account"
        assert "a***@example.com" in str(screen.query_one("#account-text").render())
        await pilot.press(*ACCOUNT, "enter")
        await wait_until(pilot, lambda: getattr(app.focused, "id", None) == "account-password")
        await pilot.press(*PASSWORD, "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
    assert sim.phone.account.signed_in == ACCOUNT and not sim.phone.account_locked
    step = app.recorder.steps[-1]
    assert step == ("unlock_account", {"account": ACCOUNT, "password": "********"})
    text = app.recorder.to_toml(state="activated", screen="home")
    assert PASSWORD not in text and "not recorded: type the password here" in text


async def test_from_this_device_is_locked_the_palette_opens_the_console_that_clears_it(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    # At "This device is locked" the keys are the account's letters (v goes in the box): the
    # palette still reaches the vendor console, whose support unbinds the phone (x); setup's
    # Ask again then gets through (played in tmux: the console was out of reach before).
    sim = make_sim()
    _account_locked(sim)
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, SetupScreen)
        await pilot.press("ctrl+p")
        await pilot.press(*"vendor console")
        options = app.screen.query_one(OptionList)

        def offered() -> bool:  # the palette's first choice is the console
            first = options.highlighted
            return first is not None and "Vendor console" in str(
                options.get_option_at_index(first).prompt
            )

        await wait_until(pilot, offered)
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, VendorConsoleScreen))
        fleet = app.screen.query_one("#fleet", DataTable)
        await wait_until(
            pilot, lambda: fleet.row_count == 1 and fleet_cell(fleet, "account") == "locked"
        )
        await pilot.press("x")
        await wait_until(pilot, lambda: fleet_cell(fleet, "account") == "")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SetupScreen))
        app.request_activation()  # setup's Ask again
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
    assert not sim.phone.account_locked and sim.phone.state is DeviceState.ACTIVATED


@pytest.mark.slow  # over 2 s of CPU or 10 s of wall (tests/support/cpu_budget.py)
async def test_the_mi_account_dialog_signs_in_and_the_console_unbinds(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    sim = make_sim()
    _activated(sim, "Telekom")
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await open_account_dialog(pilot)
        await pilot.press(*ACCOUNT, "enter")
        await wait_until(pilot, lambda: getattr(app.focused, "id", None) == "dialog-password")
        await pilot.press(*PASSWORD, "enter")
        await wait_until(pilot, lambda: sim.phone.account.signed_in == ACCOUNT)
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        about = app.screen.query_one("#about")
        await wait_until(pilot, lambda: "Find Device on" in str(about.render()))
        # The vendor's support unbinds it at the console (x); the phone hears it at its contact.
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, VendorConsoleScreen))
        fleet = app.screen.query_one("#fleet", DataTable)
        await wait_until(
            pilot, lambda: fleet.row_count == 1 and fleet_cell(fleet, "account") == "bound"
        )
        await pilot.press("x")
        await wait_until(pilot, lambda: fleet_cell(fleet, "account") == "")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
    admin = sim.admin
    assert admin is not None and admin.device(sim.phone.identity.serial).account is None
    sim.phone.retry()
    sim.run_due()
    assert sim.phone.account.hint is None and sim.phone.account.signed_in is None
