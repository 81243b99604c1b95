"""Keys that arrive in one burst (a paste, a script, tmux's ``send-keys``) land where they are meant.

Played in tmux, the account dialog's name came out "alice@example.comcor": the name, Tab and the
password arrived together, and the first keys after the Tab went to the name field, because
Textual moved the focus only after the keys queued behind the Tab. Here every key of a form is
posted to the app at once, before any is handled, as a terminal's burst is; the fields must then
hold what a person typing slowly would have put in them (``phone_sim/ui/widgets/fields.py``).
"""

from __future__ import annotations

from collections.abc import Callable

from textual import events
from textual.app import App
from textual.widgets import Input

from phone_sim.ui.app import Pace, make_app
from phone_sim.ui.screens.home_screen import HomeScreen
from phone_sim.ui.screens.setup_screen import SetupScreen
from phone_sim.ui.screens.sim_tray_screen import SimTrayScreen
from tests.functional.conftest import wait_until
from tests.support.navigate import open_account_dialog, press_from
from tests.support.one_phone import OnePhoneWorld
from tests.support.ui_states import ACCOUNT, PASSWORD, _account_locked, _activated
from tests.support.waits import on_screen

SIZE = (100, 42)
CHARACTERS = {"tab": "\t", "enter": "\r", "shift+tab": None}


def burst(app: App[None], *keys: str) -> None:
    """Queue every key at once, as a terminal delivers a paste, without waiting between them."""
    for key in keys:
        app.post_message(events.Key(key, CHARACTERS.get(key, key)))


async def test_a_burst_with_tab_fills_the_account_dialog_field_by_field(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    sim = make_sim()
    _activated(sim, "Telekom")
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await open_account_dialog(pilot)
        dialog = app.screen
        burst(app, *ACCOUNT, "tab", *PASSWORD, "shift+tab")
        name = dialog.query_one("#dialog-name", Input)
        password = dialog.query_one("#dialog-password", Input)
        await wait_until(pilot, lambda: app.focused is name and password.value == PASSWORD)
        assert name.value == ACCOUNT


async def test_a_burst_with_enter_moves_from_the_name_to_the_password_at_once(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    sim = make_sim()
    _account_locked(sim)
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, SetupScreen)
        burst(app, *ACCOUNT, "enter", *PASSWORD, "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
    assert sim.phone.account.signed_in == ACCOUNT and not sim.phone.account_locked


async def test_a_burst_fills_the_custom_sim_fields_in_turn(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    sim = make_sim()
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await press_from(pilot, SetupScreen, "t", SimTrayScreen)
        tray = app.screen
        tray.query_one("#mcc", Input).focus()
        await wait_until(pilot, lambda: getattr(app.focused, "id", None) == "mcc")
        burst(app, "3", "6", "8", "tab", "0", "1", "enter")
        await wait_until(pilot, lambda: sim.phone.slot(1).sim is not None)
    inserted = sim.phone.slot(1).sim
    assert inserted is not None and inserted.home.code == "368-01"
