"""Ways through the app that many Pilot tests take first: each waits until the screen it
reaches is ready for keys (``tests/support/waits.py``)."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.screen import Screen

from phone_sim.ui.screens.account_screen import AccountScreen
from phone_sim.ui.screens.home_screen import HomeScreen
from tests.support.waits import on_screen


async def press_from(
    pilot: Pilot[None], here: type[Screen[object]], key: str, there: type[Screen[object]]
) -> None:
    """Wait for a ``here`` screen ready for keys, press ``key``, wait for ``there`` ready."""
    await on_screen(pilot, here)
    await pilot.press(key)
    await on_screen(pilot, there)


async def open_account_dialog(pilot: Pilot[None]) -> None:
    """From the home screen of an activated phone, the Mi Account dialog (``m``)."""
    await press_from(pilot, HomeScreen, "m", AccountScreen)
