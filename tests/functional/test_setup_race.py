"""A setup (or boot) screen whose Mount is handled after its widgets are gone (it was switched away, or
the app shut down first) does nothing, instead of failing the app with ``NoMatches: '#retry'``.

Seen under load in ``test_app_world.py::test_a_phone_joins_from_the_palette_and_comes_into_view``:
the second phone's setup screen got its Mount as the app was closing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from phone_sim.ui.screens.base import PhoneScreen
from phone_sim.ui.screens.boot_screen import BootScreen
from phone_sim.ui.screens.setup_screen import SetupScreen
from tests.support.one_phone import OnePhoneWorld
from tests.support.ui_states import in_state


@asynccontextmanager
async def shown(
    name: str, kind: type[PhoneScreen], make_sim: Callable[..., OnePhoneWorld]
) -> AsyncIterator[PhoneScreen]:
    """The app at ``name`` (tests/support/ui_states.py), its screen a ``kind``."""
    async with in_state(name, make_sim, (80, 24)) as (app, _pilot, _sim):
        assert isinstance(app.screen, kind)
        yield app.screen


async def test_a_setup_screen_torn_down_before_its_mount_is_handled_does_not_crash(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with shown("setup-welcome", SetupScreen, make_sim) as screen:
        await screen.query_one("#phone").remove()
        screen.on_mount()  # its Mount arriving after its widgets went


async def test_a_boot_screen_torn_down_before_its_mount_is_handled_does_not_crash(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    # The same race on the boot screen ('#logo'), seen by a newcomer's test run under load.
    async with shown("boot", BootScreen, make_sim) as screen:
        await screen.query_one("#phone").remove()
        screen.on_mount()


async def test_a_setup_screen_being_removed_when_its_mount_is_handled_does_not_crash(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    # Textual removes a screen's widgets leaves first: its Mount can come when '#retry' has gone
    # and '#phone' has not yet (the palette's second phone under load, again after the fix above).
    async with shown("setup-welcome", SetupScreen, make_sim) as screen:
        removal = screen.remove()  # the whole screen on its way out, as a switch or an exit does
        await screen.query_one("#retry").remove()  # a leaf gone first
        assert screen.query("#phone")
        screen.on_mount()
        await removal
