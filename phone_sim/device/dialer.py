"""The dialer: placing and ending calls, and which numbers are emergency numbers.

A mixin of :class:`phone_sim.device.phone.Phone`, kept apart by concern. A locked or
unactivated phone still calls emergency numbers; any other call needs an activated phone and a
SIM on a network.
"""

from __future__ import annotations

from .events import CallResult, EventKind
from .parts import PhoneParts
from .state import Action, DeviceState

#: emergency numbers with or without a SIM
EMERGENCY_ALWAYS = frozenset({"112", "911"})
#: emergency numbers a phone without a SIM also calls
EMERGENCY_WITHOUT_SIM = frozenset({"000", "08", "110", "118", "119", "999"})


class DialerMixin(PhoneParts):
    """Calls; see the module docstring."""

    def is_emergency_number(self, number: str) -> bool:
        return number in EMERGENCY_ALWAYS or (not self.has_sim and number in EMERGENCY_WITHOUT_SIM)

    def dial(self, number: str) -> CallResult:
        """Place a call. A locked or unactivated phone still calls emergency numbers."""
        number = number.strip()
        self._require(Action.DIAL)
        if not number:
            return CallResult(False, number, "enter a number")
        if self.is_emergency_number(number):
            self.active_call = number
            self._emit(EventKind.CALL, f"emergency call {number}")
            return CallResult(True, number, f"Emergency call {number}")
        if self.state is not DeviceState.ACTIVATED:
            return CallResult(False, number, "Only emergency calls are possible")
        if not any(v.serving is not None for v in self.slots):
            return CallResult(False, number, "No network")
        self.active_call = number
        self._emit(EventKind.CALL, f"calling {number}")
        return CallResult(True, number, f"Calling {number}")

    def hang_up(self) -> None:
        if self.active_call is not None:
            self._emit(EventKind.CALL, f"call {self.active_call} ended")
        self.active_call = None
