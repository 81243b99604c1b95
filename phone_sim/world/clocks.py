"""The world's time, wherever it lives, behind one interface (:class:`WorldClock`).

Three places hold a world's time, and each has one implementation:

* this process: :class:`~phone_sim.protocol.clock.SimulatedClock` (unit tests, a vendor given
  its clock);
* a data directory that our server's processes share:
  :class:`~server_stub.datadir.clock.SharedClock` (the embedded vendor, ``serve --workers``, a
  fleet's server processes and its phone processes all read the same file);
* a server of ours reached through its admin API: :class:`AdminClock`.

A vendor whose time nobody may move keeps :class:`~phone_sim.protocol.clock.RealTime`, whose
``advance`` is refused at once with the reason. Another process reaches the same time through a
:class:`ClockSource` (a small picklable value naming where time lives), never by messages that
carry times.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from phone_sim.protocol.clock import (
    ClockMode,
    RealTime,
    TimeNotControllable,
    WorldClock,
)
from server_stub.admin.client import AdminClient, AdminClientError
from server_stub.admin.models import ClockView
from server_stub.datadir.clock import SharedClock

__all__ = [
    "AdminApiSource",
    "AdminClock",
    "ClockSource",
    "RealTimeSource",
    "SharedFileSource",
    "WorldClock",
]

#: how often an :class:`AdminClock` asks the server again (real seconds), to see moves by others
REFRESH = 1.0


class AdminClock:
    """A server's simulated clock, read and moved through its admin API (needs the token).

    Between reads it runs on at the server's speed from the last reading; it asks again at
    most every :data:`REFRESH` real seconds, and after each advance, so a move made by another
    driver shows within a second. Like every simulated clock it never goes back in this process.

    Raises:
        TimeNotControllable: the server keeps real time (from the constructor).
        AdminClientError: the server cannot be reached or refuses the token.
    """

    mode = ClockMode.SIMULATED

    def __init__(self, admin: AdminClient) -> None:
        self._admin = admin
        self._lock = threading.Lock()
        self._last = 0.0
        self._take(admin.clock())

    def _take(self, view: ClockView) -> None:
        if not view.simulated:
            raise TimeNotControllable(
                f"the vendor at {self._admin.base_url} keeps real time: nobody can move it"
            )
        with self._lock:
            self._base, self._speed, self._read_at = float(view.now), view.speed, time.monotonic()
            self._last = max(self._last, self._base)

    @property
    def speed(self) -> float:
        return self._speed

    def refresh(self) -> None:
        """Read the server's time now (a move made by another driver shows at once)."""
        self._take(self._admin.clock())

    def now(self) -> float:
        if time.monotonic() - self._read_at >= REFRESH:
            self.refresh()
        with self._lock:
            value = self._base + (time.monotonic() - self._read_at) * self._speed
            self._last = max(self._last, value)
            return self._last

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the simulated clock does not run backwards")
        if seconds > 0:
            # The admin API moves whole seconds; a step to a check-in may land a moment late,
            # never early (a check-in is due once its time has come).
            try:
                self._take(self._admin.advance_clock(math.ceil(seconds)))
            except AdminClientError as exc:
                raise TimeNotControllable(f"the vendor did not move its clock: {exc}") from exc
        return self.now()


@dataclass(frozen=True)
class SharedFileSource:
    """Time kept in a vendor data directory's ``clock.json`` on this machine."""

    path: Path

    def open(self) -> WorldClock:
        return SharedClock(self.path)


@dataclass(frozen=True)
class AdminApiSource:
    """Time kept by a server of ours, reached with its admin token."""

    url: str
    token: str

    def open(self) -> WorldClock:
        return AdminClock(AdminClient(self.url, self.token))


@dataclass(frozen=True)
class RealTimeSource:
    """Real time, which nobody moves (``why`` says so when someone tries)."""

    why: str = "this world runs on real time"

    def open(self) -> WorldClock:
        return RealTime(self.why)


ClockSource = SharedFileSource | AdminApiSource | RealTimeSource
