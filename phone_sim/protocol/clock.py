"""Clocks, injectable on both sides so that tests, scenarios and accelerated play agree on time.

A simulated clock runs from a start instant at ``speed`` simulated seconds per real second and
can be advanced ("3 days later") but never wound back. It reads ``time.monotonic`` underneath,
so changing the machine's wall clock does not move it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Unix seconds."""
        ...


def utc(clock: Clock) -> dt.datetime:
    return dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC)


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.time()


class SimulatedClock:
    """Simulated time: starts at ``start``, runs ``speed`` times real time, only moves forward."""

    def __init__(self, start: float | None = None, *, speed: float = 1.0) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self._lock = threading.Lock()
        self._base = time.time() if start is None else start
        self._origin = time.monotonic()
        self._speed = speed
        self._last = self._base

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        with self._lock:
            value = self._base + (time.monotonic() - self._origin) * self._speed
            # Float rounding must never make time step back between two reads.
            self._last = max(self._last, value)
            return self._last

    def advance(self, seconds: float) -> float:
        """Jump forward by ``seconds``; return the new time."""
        if seconds < 0:
            raise ValueError("the simulated clock does not run backwards")
        with self._lock:
            self._base += seconds
            self._last += seconds
        return self.now()

    def set_speed(self, speed: float) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        with self._lock:
            now = self._base + (time.monotonic() - self._origin) * self._speed
            self._base, self._origin, self._speed = max(now, self._last), time.monotonic(), speed


class FixedClock(SimulatedClock):
    """A clock that only moves when advanced (speed 0), for tests and deterministic scenarios."""

    def __init__(self, start: float) -> None:
        super().__init__(start, speed=0.0)
