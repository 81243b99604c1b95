"""What every expectation reads and returns: the :class:`Subject` (a phone, and maybe its
vendor's admin API) and the :class:`Check` (``ok``, ``detail``), and :func:`mask_ports` for
details that must read the same from run to run. Kept apart from the checks themselves
(``expectations.py``, ``account_expectations.py``) so that both import it and neither the other.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

from phone_sim.device.phone import Phone
from server_stub.admin.client import AdminClient

_PORT = re.compile(r"((?:127\.0\.0\.1|localhost|\[::1\]):)\d+|(port=)\d+")


def mask_ports(text: str) -> str:
    """``text`` without ephemeral port numbers, so that output is the same from run to run."""
    return _PORT.sub(lambda m: (m.group(1) or m.group(2)) + "…", text)


class Check(NamedTuple):
    ok: bool
    detail: str


class Subject:
    """What the checks read: a phone, and (maybe) its vendor's admin API."""

    def __init__(self, phone: Phone, admin: Callable[[], AdminClient]) -> None:
        self.phone = phone
        self._admin = admin

    @property
    def admin(self) -> AdminClient:
        return self._admin()

    @property
    def serial(self) -> str:
        return self.phone.identity.serial

    @property
    def imeis(self) -> tuple[str, ...]:
        return self.phone.identity.imeis

    def where(self) -> str:
        reason = f", reason {self.phone.lock_reason}" if self.phone.lock_reason else ""
        return f"state {self.phone.state.value}{reason}"
