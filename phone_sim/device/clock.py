"""The phone's own clock: it runs by itself and is set only from signed vendor time.

A world's time is its vendor's (``docs/decisions/one-world-one-time.md``). A phone in the same
process as the world's clock reads that clock directly (``shared=True``): its time *is* the
world's. A phone whose vendor is elsewhere runs a local clock and sets it from the vendor's
signed time (``phone_sim.protocol.timesync``) at boot, from each verified verdict, and whenever
the vendor calls its requests stale; never from anything unsigned. Either way the clock never
goes back past the last signed time it saw (``floor``, kept across restarts).
"""

from __future__ import annotations

import threading

from phone_sim.protocol.clock import Clock, SimulatedClock

#: a signed time this close to the phone's is taken as agreeing (network delay, whole seconds)
TOLERANCE = 2.0


class DeviceClock:
    """``now = max(floor, source.now() + offset)``; :meth:`set` moves the offset.

    Args:
        source: how time passes where the phone is.
        shared: ``source`` is the world's own clock (same process): nothing to set it from.
        floor: the last signed time the phone saw (from its stored state).
    """

    def __init__(self, source: Clock, *, shared: bool, floor: float = 0.0) -> None:
        self.source = source
        self.shared = shared
        self._floor = floor
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def floor(self) -> float:
        """The last signed time this phone saw: its clock never reads earlier."""
        return self._floor

    def now(self) -> float:
        return max(self._floor, self.source.now() + self._offset)

    @property
    def speed(self) -> float:
        """Simulated seconds per real second of the time the phone runs on."""
        speed: float = getattr(self.source, "speed", 1.0)
        return speed

    def set(self, signed: float, *, speed: float | None = None, forward_only: bool = False) -> bool:
        """Take ``signed`` (a verified vendor time) as now; False if it lies before the floor.

        A time earlier than one already seen is refused: time never runs back on the phone.
        ``speed`` (the vendor's, from a time answer) is taken too, by a clock of its own.
        ``forward_only``: ``signed`` only says the vendor's time was at least this (a verdict's
        ``issued_at``: it may have been held back on the way), so it never moves the clock back.
        """
        with self._lock:
            if signed < self._floor:
                return False
            if forward_only and signed <= self.source.now() + self._offset:
                self._floor = max(self._floor, signed)
                return True
            if (
                speed is not None
                and not self.shared
                and isinstance(self.source, SimulatedClock)
                and self.source.speed != speed
            ):
                self.source.set_speed(speed)
            self._floor = signed
            drift = signed - (self.source.now() + self._offset)
            if abs(drift) > TOLERANCE:
                self._offset += drift
            return True
