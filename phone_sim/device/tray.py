"""The phone's SIM tray: inserting, removing and swapping SIMs, roaming, airplane mode.

A mixin of :class:`phone_sim.device.phone.Phone`, kept apart by concern: every change is saved
with the tray (``tray_file``), emitted as an event and makes a check-in due, since what the
phone reports to its vendor changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import SlotError
from .events import EventKind
from .parts import PhoneParts
from .sims import Network, Sim
from .tray_file import SlotContents

if TYPE_CHECKING:
    pass

#: the phone's SIM slots
SLOTS = (1, 2)


class SimTrayMixin(PhoneParts):
    """The SIM tray's actions; see the module docstring."""

    def _check_slot(self, slot: int) -> None:
        if slot not in SLOTS:
            raise SlotError(f"no SIM slot {slot}; slots are 1 and 2")

    def _save_tray(self) -> None:
        if self.storage is not None:
            self.storage.save_tray(
                {
                    s: None if sim is None else SlotContents(sim, self._roaming_on[s])
                    for s, sim in self._sims.items()
                }
            )

    def insert_sim(self, slot: int, sim: Sim) -> None:
        self._check_slot(slot)
        if self._sims[slot] is not None:
            raise SlotError(f"slot {slot} already holds {self._sims[slot].label}")  # type: ignore[union-attr]
        self._sims[slot] = sim
        self._roaming_on[slot] = None
        self._save_tray()
        self._emit(EventKind.SIM, f"SIM {slot}: {sim.label} inserted")
        self._want_checkin("SIM change")

    def remove_sim(self, slot: int) -> Sim:
        self._check_slot(slot)
        sim = self._sims[slot]
        if sim is None:
            raise SlotError(f"slot {slot} is empty")
        self._sims[slot] = None
        self._roaming_on[slot] = None
        self._save_tray()
        self._emit(EventKind.SIM, f"SIM {slot}: {sim.label} removed")
        self._want_checkin("SIM change")
        return sim

    def replace_sim(self, slot: int, sim: Sim | None) -> None:
        """Put ``sim`` in ``slot`` whatever was there (None empties it)."""
        if self.slot(slot).sim is not None:
            self.remove_sim(slot)
        if sim is not None:
            self.insert_sim(slot, sim)

    def swap_sims(self) -> None:
        self._sims[1], self._sims[2] = self._sims[2], self._sims[1]
        self._roaming_on[1], self._roaming_on[2] = self._roaming_on[2], self._roaming_on[1]
        self._save_tray()
        self._emit(EventKind.SIM, "SIM slots swapped")
        self._want_checkin("SIM change")

    def roam(self, slot: int, network: Network | None) -> None:
        """Camp ``slot``'s SIM on ``network`` (None: back on its home network)."""
        if self.slot(slot).sim is None:
            raise SlotError(f"slot {slot} is empty")
        self._roaming_on[slot] = network
        self._save_tray()
        where = "home network" if network is None else network.name
        self._emit(EventKind.NETWORK, f"SIM {slot} on {where}")
        self._want_checkin("network change")

    def set_airplane(self, on: bool) -> None:
        was = self.airplane
        self.airplane = on
        self._emit(EventKind.NETWORK, "airplane mode on" if on else "airplane mode off")
        if was and not on:
            self._want_checkin("network regained")
