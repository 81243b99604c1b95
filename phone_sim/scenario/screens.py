"""Which screen the phone shows in each state: one mapping for the TUI and headless drivers.

Scenario files name screens (``expect.screen = "lock"``); the TUI maps the same names to its
screen classes, so a headless run and a run in the app agree on what "the lock screen" is.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

from phone_sim.device.state import DeviceState

SCREEN_FOR_STATE: Final[dict[DeviceState, str]] = {
    DeviceState.OFF: "off",
    DeviceState.BOOTING: "boot",
    DeviceState.SETUP: "setup",
    # The setup wizard stays up, showing "Checking activation", while the verdict is awaited.
    DeviceState.ACTIVATING: "setup",
    DeviceState.ACTIVATED: "home",
    DeviceState.LOCKED: "lock",
}

#: a screen's name, as scenario files write it (``expect.screen = "lock"``)
ScreenName = Literal["off", "boot", "setup", "home", "lock"]
#: every screen name, in the order a phone meets them
SCREENS: Final[tuple[str, ...]] = get_args(ScreenName)


def screen_for(state: DeviceState) -> str:
    """The screen name for ``state``: ``off``, ``boot``, ``setup``, ``home`` or ``lock``."""
    return SCREEN_FOR_STATE[state]
