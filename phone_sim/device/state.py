"""The phone's states and the transitions between them, as data.

    OFF --power_on--> BOOTING --boot--> SETUP --activate--> ACTIVATING --verdict--> ACTIVATED
                                   ^                           |    \\-------verdict--> LOCKED
                                   +------ failure ------------+
    ACTIVATED <--verdict--> LOCKED          any state --power_off--> OFF

A locked phone stays locked across reboots: BOOTING returns to the persisted activation state.
"""

from __future__ import annotations

from enum import StrEnum


class DeviceState(StrEnum):
    OFF = "off"
    BOOTING = "booting"
    SETUP = "setup"
    ACTIVATING = "activating"
    ACTIVATED = "activated"
    LOCKED = "locked"


class Activation(StrEnum):
    """What the phone remembers across reboots about its activation."""

    NONE = "none"
    ACTIVATED = "activated"
    LOCKED = "locked"


#: action -> states it may be taken in
ALLOWED: dict[str, frozenset[DeviceState]] = {
    "power on": frozenset({DeviceState.OFF}),
    "finish booting": frozenset({DeviceState.BOOTING}),
    "power off": frozenset(set(DeviceState) - {DeviceState.OFF}),
    "reboot": frozenset(set(DeviceState) - {DeviceState.OFF}),
    "choose a language": frozenset({DeviceState.SETUP}),
    "finish setup": frozenset({DeviceState.SETUP}),
    "factory reset": frozenset(set(DeviceState) - {DeviceState.OFF, DeviceState.BOOTING}),
    "request activation": frozenset({DeviceState.SETUP, DeviceState.ACTIVATED, DeviceState.LOCKED}),
    "dial": frozenset({DeviceState.ACTIVATED, DeviceState.LOCKED, DeviceState.SETUP}),
}

#: states in which the phone is up and its radio works
RADIO_ON = frozenset(
    {DeviceState.SETUP, DeviceState.ACTIVATING, DeviceState.ACTIVATED, DeviceState.LOCKED}
)
