"""The server's time, which the kit signs with (PROTOCOL.md sections 2.1 and 6).

A server checks a request's ``created`` against its own clock, which may be simulated (ours
runs 2021 by default). The kit asks ``POST /v1/time`` with a fresh nonce and takes the answer
only if it is signed by the pinned vendor key and carries that nonce; from then on it counts
on at the speed the answer gave. A server without a valid time answer is taken to keep the
machine's clock (said in the report; the cases on the time endpoint fail separately).
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass


@dataclass
class ServerTime:
    """The server's time as the kit last learnt it."""

    #: the server's time at ``read_at`` (Unix seconds)
    base: float
    #: server seconds per real second
    speed: float
    read_at: float
    #: where the time came from, for the report
    source: str

    @classmethod
    def local(cls, why: str) -> ServerTime:
        return cls(time.time(), 1.0, time.monotonic(), f"this machine's clock ({why})")

    @classmethod
    def signed(cls, now: int, speed: int, mode: str) -> ServerTime:
        when = dt.datetime.fromtimestamp(now, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        return cls(
            float(now),
            float(speed),
            time.monotonic(),
            f"the server's signed time (POST /v1/time): {when}, {mode}, speed {speed}",
        )

    def now(self) -> int:
        return int(self.base + (time.monotonic() - self.read_at) * self.speed)
