"""When the phone next talks to the vendor: the check-in schedule, its triggers and its back-off.

An activated or locked phone checks in every ``interval`` simulated seconds (the vendor may set
the next one in its verdict), and at once after a SIM change, regained network, a reboot or a
user's retry. Failed check-ins back off exponentially from ``base_backoff`` up to
``max_backoff``, jittered so a fleet does not retry in lock-step.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

DAY = 86_400.0
DEFAULT_INTERVAL = DAY
BASE_BACKOFF = 60.0
MAX_BACKOFF = 6 * 3600.0
#: the back-off's exponent stops growing here: 2**32 times any base is far past any bound, and
#: ``2.0 ** n`` overflows a float once n reaches 1024 (about 1,000 failures in a row)
MAX_EXPONENT = 32


@dataclass
class CheckinSchedule:
    rng: random.Random
    interval: float = DEFAULT_INTERVAL
    base_backoff: float = BASE_BACKOFF
    max_backoff: float = MAX_BACKOFF
    next_at: float | None = None
    #: why a check-in is wanted now, ahead of the schedule (None: follow ``next_at``)
    forced: str | None = None
    failures: int = 0
    last_failure: str | None = field(default=None)

    def force(self, reason: str) -> None:
        """Ask for a check-in as soon as possible (keeps the first reason given)."""
        if self.forced is None:
            self.forced = reason

    def due(self, now: float) -> str | None:
        """The reason a check-in is due at ``now``, or None."""
        if self.forced is not None and self.failures == 0:
            return self.forced
        if self.next_at is not None and now >= self.next_at:
            return self.forced or ("retry" if self.failures else "schedule")
        return None

    def succeeded(self, now: float, next_after: float | None) -> None:
        self.failures = 0
        self.forced = None
        self.last_failure = None
        self.next_at = now + (next_after if next_after is not None else self.interval)

    def failed(self, now: float, why: str) -> float:
        """Record a failure; return the back-off delay before the retry."""
        self.failures += 1
        self.last_failure = why
        exponent = min(self.failures - 1, MAX_EXPONENT)
        delay = float(min(self.max_backoff, self.base_backoff * 2.0**exponent))
        delay *= self.rng.uniform(0.5, 1.0)  # jitter, never beyond the bound
        self.next_at = now + delay
        return delay

    def reset(self) -> None:
        self.next_at = None
        self.forced = None
        self.failures = 0
        self.last_failure = None
