"""The unblock code's attempt limits, on the phone's own clock (``unblock.json``).

PROTOCOL.md section 13.3. A locked phone shows a challenge; the code that answers it is made by
the vendor's operator from the device's own secret. Guessing is bounded two ways:

* **per day**: at most :data:`PER_DAY` wrong codes in any 24 hours of the phone's clock. Each
  wrong code is kept with its time; one stamped *later* than now (the clock was set back) still
  counts, so moving the clock back frees no attempt. Moving it forward does free the day's
  attempts, as waiting would; hence
* **until contact**: at most :data:`UNTIL_CONTACT` wrong codes until the phone next accepts a
  verdict from its vendor, however its clock moves. So a phone that cannot reach its vendor
  gives a guesser at most 20 tries: with 10^8 codes, a chance of 2 in 10 million.

These counters are the hardware's: a factory reset keeps them (the phone's clock floor too).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from typing import Any

from phone_sim.protocol.device_secret import CHALLENGE_DIGITS

DAY = 86_400
PER_DAY = 5
UNTIL_CONTACT = 20
#: the reason an unblocked phone shows until its vendor decides again
UNBLOCKED_REASON = "UNBLOCKED"
UNBLOCKED_MESSAGE = (
    "Unlocked with an unblock code. The phone asks the vendor again at its next contact."
)


@dataclass(frozen=True)
class UnblockOutcome:
    """What entering a code did."""

    unlocked: bool
    detail: str
    attempts_left: int


@dataclass(frozen=True)
class UnblockState:
    #: what the lock screen shows; replaced once a code for it has been accepted
    challenge: str | None = None
    #: when each wrong code still counted was typed (phone's clock)
    failures: tuple[float, ...] = ()
    #: wrong codes since the phone last accepted a verdict
    since_contact: int = 0

    def counted(self, now: float) -> tuple[float, ...]:
        """The wrong codes of the last 24 hours, and any stamped after ``now``."""
        return tuple(at for at in self.failures if at > now - DAY)

    def attempts_left(self, now: float) -> int:
        return max(0, min(PER_DAY - len(self.counted(now)), UNTIL_CONTACT - self.since_contact))

    def why_none_left(self, now: float) -> str:
        """Why no code may be tried now, and when one may."""
        if self.since_contact >= UNTIL_CONTACT:
            return (
                f"{UNTIL_CONTACT} wrong codes since this phone last reached its vendor: "
                "connect it to the internet"
            )
        oldest = min(self.counted(now))
        hours = max(1, round((oldest + DAY - now) / 3600))
        return f"{PER_DAY} wrong codes in 24 hours: try again in about {hours} h"

    def with_challenge(self, rng: random.Random) -> UnblockState:
        if self.challenge is not None:
            return self
        digits = "".join(str(rng.randrange(10)) for _ in range(CHALLENGE_DIGITS))
        return replace(self, challenge=digits)

    def failed(self, now: float) -> UnblockState:
        return replace(
            self, failures=(*self.counted(now), now), since_contact=self.since_contact + 1
        )

    def succeeded(self, now: float) -> UnblockState:
        """A code was accepted: its challenge is spent (the next lock shows a new one)."""
        return UnblockState(challenge=None, failures=self.counted(now), since_contact=0)

    def after_contact(self) -> UnblockState:
        return replace(self, since_contact=0)

    def after_reset(self) -> UnblockState:
        """A factory reset erases the challenge, not the counts (they are the hardware's)."""
        return replace(self, challenge=None)

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "challenge": self.challenge,
                "failures": list(self.failures),
                "since_contact": self.since_contact,
            },
            indent=2,
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> UnblockState:
        data: Any = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("top level is not an object")
        challenge = data.get("challenge")
        if challenge is not None and not (
            isinstance(challenge, str)
            and challenge.isdigit()
            and len(challenge) == CHALLENGE_DIGITS
        ):
            raise ValueError(f"challenge must be {CHALLENGE_DIGITS} digits")
        failures = data.get("failures", [])
        if not isinstance(failures, list) or not all(
            isinstance(f, int | float) and not isinstance(f, bool) for f in failures
        ):
            raise ValueError("failures must be a list of times")
        count = data.get("since_contact", 0)
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError("since_contact must be a whole number >= 0")
        return cls(challenge, tuple(float(f) for f in failures), count)
