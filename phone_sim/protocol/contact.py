"""The kinds of contact a phone makes with its vendor, and where each is sent.

Both sides name them with :class:`ContactKind`, spelled one way everywhere: ``activation``
(from setup), ``checkin`` (an activated or locked phone asking again), both signed by the
device; ``time`` (asking the vendor's signed time, ``phone_sim.protocol.timesync``); and
``account`` (version 2: signing in to an account, out of it, or lifting its lock with the
password, ``phone_sim.protocol.account``), signed by the device and answered with a verdict.
"""

from __future__ import annotations

from enum import StrEnum


class ContactKind(StrEnum):
    ACTIVATION = "activation"
    CHECKIN = "checkin"
    TIME = "time"
    ACCOUNT = "account"

    @property
    def path(self) -> str:
        """The endpoint this kind of contact is sent to (PROTOCOL.md section 2)."""
        return _PATHS[self]


_PATHS = {
    ContactKind.ACTIVATION: "/v1/activation",
    ContactKind.CHECKIN: "/v1/checkin",
    ContactKind.TIME: "/v1/time",
    ContactKind.ACCOUNT: "/v1/account",
}

ACTIVATION_PATH = ContactKind.ACTIVATION.path
CHECKIN_PATH = ContactKind.CHECKIN.path
ACCOUNT_PATH = ContactKind.ACCOUNT.path
