"""The app's entries in the command palette (ctrl+p): the world's controls by name.

:meth:`phone_sim.ui.app.PhoneApp.get_system_commands` offers Textual's own commands, then
these, then the Mi Account's and the unblock code's (``recovery_actions.py``). The palette
also reaches what a key cannot where a screen takes letters as text (setup's "This device is
locked" has its inputs).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from phone_sim.device.state import DeviceState

if TYPE_CHECKING:
    from phone_sim.ui.app import PhoneApp


def world_commands(app: PhoneApp) -> Iterable[SystemCommand]:
    """The world's controls and the phone in view's, as palette entries."""
    yield SystemCommand("SIM tray", "Insert, remove or swap SIM cards", app.action_sim_tray)
    yield SystemCommand(
        "Protocol inspector", "Requests, verdicts, signature checks", app.action_inspector
    )
    # Also where ``v`` is a letter typed (setup's "This device is locked" has its inputs).
    yield SystemCommand(
        "Vendor console", "The vendor's fleet, locks, codes, audit", app.action_vendor_console
    )
    yield SystemCommand(
        "Add a phone", "A new phone from the factory joins this world", app.action_add_phone
    )
    if len(app.world.phones) > 1:
        yield SystemCommand(
            "Next phone", "Show the next phone of this world", app.action_next_phone
        )
    yield SystemCommand(
        "Reboot phone", "Power-cycle; a locked phone stays locked", app.action_reboot
    )
    yield SystemCommand("Power on/off", "Hold the power button", app.action_power)
    for label, seconds in (
        ("1 hour", 3600),
        ("1 day", 86400),
        ("3 days", 259200),
        ("7 days", 604800),
    ):
        yield SystemCommand(
            f"Advance time {label}",
            "The world's time passes; every phone's check-ins happen on the way",
            partial(app.action_advance, seconds),
        )
    yield SystemCommand(
        "Save scenario", "Export what was played as a scenario file", app.action_save_scenario
    )
    yield SystemCommand(
        "Factory reset",
        "Erase the phone (the vendor keeps its record)",
        app.action_factory_reset,
    )
    if app.phone.state in (DeviceState.LOCKED, DeviceState.ACTIVATED, DeviceState.SETUP):
        yield SystemCommand(
            "Ask the vendor again", "Send a fresh signed request", app.request_activation
        )
