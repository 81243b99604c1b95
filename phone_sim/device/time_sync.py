"""Setting the phone's clock from the vendor's signed time (PROTOCOL.md, the time endpoint).

A mixin of :class:`phone_sim.device.phone.Phone`, kept apart by concern. A phone whose vendor
is in another process keeps a clock of its own (:mod:`phone_sim.device.clock`); it asks the
vendor's time at boot and whenever the vendor called a request stale (``time_sync_due``), and
sets the clock only from a signed answer that carries the nonce it sent, never back past a
signed time already seen.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .events import EventKind, TimeAttempt, VerdictOutcome
from .parts import PhoneParts
from .state import RADIO_ON, DeviceState

if TYPE_CHECKING:
    from .exchange import Exchange


class TimeSyncMixin(PhoneParts):
    """The vendor's signed time; see the module docstring."""

    def time_sync_due(self) -> str | None:
        """Why the phone should ask the vendor's signed time now, or None.

        At boot when its clock is its own (its vendor is elsewhere), and whenever the vendor
        called a request stale. Never while the phone is off or a request is in flight.
        """
        if (
            self._time_wanted is None
            or self.identity.custom_rom
            or self.state not in RADIO_ON
            or self.time_pending is not None
            or self.pending is not None
        ):
            return None
        return self._time_wanted

    def want_time(self, reason: str) -> None:
        """Ask the vendor's time at the next chance (a clock of its own only: a phone reading
        the world's clock directly has nothing to set)."""
        if not self.clock.shared:
            self._time_wanted = reason

    def begin_time_sync(self) -> TimeAttempt:
        """Start asking the vendor's time: a fresh nonce the answer must carry."""
        attempt = TimeAttempt(self._new_nonce(), self.clock.now())
        self.time_pending = attempt
        return attempt

    def complete_time_sync(self, attempt: TimeAttempt, exchange: Exchange) -> VerdictOutcome:
        """Set the clock from a signed answer to ``attempt``; anything else changes nothing."""
        self._remember(exchange)
        if self.time_pending is None or attempt is not self.time_pending:
            return VerdictOutcome(False, "a time answer this phone is no longer waiting for")
        self.time_pending = None
        answer = exchange.time
        if answer is None:
            return VerdictOutcome(False, exchange.error or "no answer")
        if answer.nonce != attempt.nonce:
            return VerdictOutcome(False, "time answer for another request (nonce)")
        if not self.clock.set(answer.now, speed=answer.speed):
            return VerdictOutcome(False, "vendor time earlier than a signed time already seen")
        self._time_wanted = None
        if self.persisted.time_floor != self.clock.floor:
            self._save(replace(self.persisted, time_floor=self.clock.floor))
        if self.schedule.failures and self.state in (DeviceState.ACTIVATED, DeviceState.LOCKED):
            # A check-in refused for its time can go again at once, on the corrected clock.
            self.retry()
        self._emit(EventKind.CLOCK, f"clock set from the vendor's signed time ({answer.now})")
        return VerdictOutcome(True, f"clock set to the vendor's time ({answer.mode.value})")
