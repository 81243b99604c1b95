"""Which screen the phone shows in each state: one mapping for the TUI and headless drivers.

Scenario files name screens (``expect.screen = "lock"``); the TUI maps the same names to its
screen classes, so a headless run and a run in the app agree on what "the lock screen" is.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final, Literal, get_args

from .state import DeviceState


class Screen(StrEnum):
    """The phone's screens, in the order a phone meets them."""

    OFF = "off"
    BOOT = "boot"
    SETUP = "setup"
    HOME = "home"
    LOCK = "lock"


SCREEN_FOR_STATE: Final[dict[DeviceState, Screen]] = {
    DeviceState.OFF: Screen.OFF,
    DeviceState.BOOTING: Screen.BOOT,
    DeviceState.SETUP: Screen.SETUP,
    # The setup wizard stays up, showing "Checking activation", while the verdict is awaited.
    DeviceState.ACTIVATING: Screen.SETUP,
    DeviceState.ACTIVATED: Screen.HOME,
    DeviceState.LOCKED: Screen.LOCK,
}

#: a screen's name, as scenario files write it (``expect.screen = "lock"``)
ScreenName = Literal["off", "boot", "setup", "home", "lock"]
#: every screen name, in the order a phone meets them
SCREENS: Final[tuple[str, ...]] = get_args(ScreenName)
assert tuple(s.value for s in Screen) == SCREENS


def screen_for(state: DeviceState) -> Screen:
    """The screen for ``state``: ``off``, ``boot``, ``setup``, ``home`` or ``lock``."""
    return SCREEN_FOR_STATE[state]
