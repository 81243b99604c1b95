"""Clocks, injectable on both sides so that tests, scenarios and accelerated play agree on time.

A simulated clock runs from a start instant at ``speed`` simulated seconds per real second and
can be advanced ("3 days later") but never wound back. It reads ``time.monotonic`` underneath,
so changing the machine's wall clock does not move it.

A world's time is held by its vendor (``docs/decisions/one-world-one-time.md``). Every driver
moves it through one interface, :class:`WorldClock`, which has one implementation for each place
time lives: :class:`SimulatedClock` in this process, ``server_stub.datadir.clock.SharedClock``
in a data directory that several of our server processes share, and
``phone_sim.world.clocks.AdminClock`` for a server of ours reached through its admin API. A
vendor whose time nobody may move keeps real time (:class:`RealTime`).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from enum import StrEnum
from typing import Protocol, runtime_checkable

#: 1 September 2021, 12:00 UTC: the month of the story. A new simulated world starts here.
STORY_START = 1630497600.0


class Clock(Protocol):
    def now(self) -> float:
        """Unix seconds."""
        ...


class ClockMode(StrEnum):
    """Whether a world runs on simulated time (which an operator may move) or real time."""

    SIMULATED = "simulated"
    REAL = "real"


class TimeNotControllable(Exception):
    """Time cannot be moved in this world (real time, or no right to move it); says why."""


@runtime_checkable
class WorldClock(Protocol):
    """A world's one time: every party reads it, one operation moves it for all."""

    @property
    def mode(self) -> ClockMode: ...

    @property
    def speed(self) -> float: ...

    def now(self) -> float:
        """Unix seconds."""
        ...

    def advance(self, seconds: float) -> float:
        """Move the world's time forward by ``seconds``; return the new time.

        Raises:
            TimeNotControllable: this world's time cannot be moved (the message says why).
        """
        ...


def utc(clock: Clock) -> dt.datetime:
    return dt.datetime.fromtimestamp(clock.now(), tz=dt.UTC)


class SystemClock:
    """Real time."""

    def now(self) -> float:
        return time.time()


class RealTime(SystemClock):
    """A world on real time: nobody moves it, and asking to is refused at once with ``why``."""

    mode = ClockMode.REAL
    speed = 1.0

    def __init__(self, why: str = "this world runs on real time") -> None:
        self.why = why

    def advance(self, seconds: float) -> float:
        raise TimeNotControllable(self.why)


class SimulatedClock:
    """Simulated time: starts at ``start``, runs ``speed`` times real time, only moves forward."""

    mode = ClockMode.SIMULATED

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
