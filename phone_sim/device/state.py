"""The phone's states and the transitions between them, as data.

    OFF --power_on--> BOOTING --boot--> SETUP --activate--> ACTIVATING --verdict--> ACTIVATED
                                   ^                           |    \\-------verdict--> LOCKED
                                   +------ failure ------------+
    ACTIVATED <--verdict--> LOCKED          any state --power_off--> OFF

A locked phone stays locked across reboots: BOOTING returns to the persisted activation state.

Version 2 (``recovery.py``): an account lock keeps the phone in SETUP ("This device is locked")
until the account's password goes through ACTIVATING; an unblock code takes LOCKED to ACTIVATED
on the phone alone.
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


class Action(StrEnum):
    """What a driver may ask of the phone; the value is how a refusal names it."""

    POWER_ON = "power on"
    FINISH_BOOT = "finish booting"
    POWER_OFF = "power off"
    REBOOT = "reboot"
    CHOOSE_LANGUAGE = "choose a language"
    FINISH_SETUP = "finish setup"
    FACTORY_RESET = "factory reset"
    REQUEST_ACTIVATION = "request activation"
    DIAL = "dial"
    DISMISS_NOTICE = "dismiss a notice"
    SIGN_IN = "sign in to an account"
    SIGN_OUT = "sign out of the account"
    UNLOCK_ACCOUNT = "unlock with the account's password"
    ENTER_UNBLOCK_CODE = "enter an unblock code"


#: action -> states it may be taken in
ALLOWED: dict[Action, frozenset[DeviceState]] = {
    Action.POWER_ON: frozenset({DeviceState.OFF}),
    Action.FINISH_BOOT: frozenset({DeviceState.BOOTING}),
    Action.POWER_OFF: frozenset(set(DeviceState) - {DeviceState.OFF}),
    Action.REBOOT: frozenset(set(DeviceState) - {DeviceState.OFF}),
    Action.CHOOSE_LANGUAGE: frozenset({DeviceState.SETUP}),
    Action.FINISH_SETUP: frozenset({DeviceState.SETUP}),
    Action.FACTORY_RESET: frozenset(set(DeviceState) - {DeviceState.OFF, DeviceState.BOOTING}),
    Action.REQUEST_ACTIVATION: frozenset(
        {DeviceState.SETUP, DeviceState.ACTIVATED, DeviceState.LOCKED}
    ),
    Action.DIAL: frozenset({DeviceState.ACTIVATED, DeviceState.LOCKED, DeviceState.SETUP}),
    Action.DISMISS_NOTICE: frozenset({DeviceState.ACTIVATED}),
    Action.SIGN_IN: frozenset({DeviceState.ACTIVATED}),
    Action.SIGN_OUT: frozenset({DeviceState.ACTIVATED}),
    Action.UNLOCK_ACCOUNT: frozenset({DeviceState.SETUP}),
    Action.ENTER_UNBLOCK_CODE: frozenset({DeviceState.LOCKED}),
}

#: states in which the phone is up and its radio works
RADIO_ON = frozenset(
    {DeviceState.SETUP, DeviceState.ACTIVATING, DeviceState.ACTIVATED, DeviceState.LOCKED}
)
