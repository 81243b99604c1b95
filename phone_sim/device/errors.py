"""Errors of the device model: one base, subclasses that say what went wrong."""

from __future__ import annotations

from pathlib import Path

from .state import Action, DeviceState


class PhoneError(Exception):
    """Base of every device-model error."""


class TransitionRefused(PhoneError):
    """The phone cannot take this action in its current state."""

    def __init__(self, action: Action, state: DeviceState, why: str = "") -> None:
        self.action = action
        self.state = state
        detail = f": {why}" if why else ""
        super().__init__(f"cannot {action.value} while {state.value}{detail}")


class SlotError(PhoneError):
    """A SIM slot operation that makes no sense (no such slot, slot empty or occupied)."""


class UnknownCatalogueEntry(PhoneError):
    """A model, market or carrier that the catalogue does not know."""


class CorruptStateError(PhoneError):
    """A device data file exists but cannot be read; it is reported, never silently reset."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"device state file {path} is unreadable: {reason}")
