"""The two kinds of contact a phone makes with its vendor, and where each is sent.

Both sides name them with :class:`ContactKind`, spelled one way everywhere: ``activation``
(from setup) and ``checkin`` (an activated or locked phone asking again).
"""

from __future__ import annotations

from enum import StrEnum


class ContactKind(StrEnum):
    ACTIVATION = "activation"
    CHECKIN = "checkin"

    @property
    def path(self) -> str:
        """The endpoint this kind of contact is sent to (PROTOCOL.md section 2)."""
        return _PATHS[self]


_PATHS = {ContactKind.ACTIVATION: "/v1/activation", ContactKind.CHECKIN: "/v1/checkin"}

ACTIVATION_PATH = ContactKind.ACTIVATION.path
CHECKIN_PATH = ContactKind.CHECKIN.path
