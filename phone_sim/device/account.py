"""What the phone knows of its account and of its vendor's agreement key (``account.json``).

Version 2 (PROTOCOL.md section 13). The vendor is the truth: each version 2 verdict says whether
the device is bound to an account (masked), with Find Device, and whether the account lock
holds; it also carries the vendor's agreement key, from which the phone makes its own secret
(``phone_sim.protocol.device_secret``). The account's full name is known only on the phone
that signed in. A factory reset erases all of it (the vendor keeps the binding: that is the
point of the lock).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from phone_sim.protocol.messages import AccountStatus


@dataclass(frozen=True)
class AccountState:
    #: the account this phone signed in to (its full name), as the vendor confirmed
    signed_in: str | None = None
    #: the account the vendor says the device is bound to, masked (``a***@mi.com``)
    hint: str | None = None
    find_device: bool = False
    #: the account lock holds: setup stops at "This device is locked"
    locked: bool = False
    #: the vendor's agreement key from the last version 2 verdict (base64)
    agreement_key: str | None = None

    def after_verdict(
        self, status: AccountStatus | None, agreement_key: str | None, *, signed_in: str | None
    ) -> AccountState:
        """The state a version 2 verdict leaves: ``status`` is its ``account`` (None: unbound);
        ``signed_in`` the name this phone proved, if the verdict answers its account request."""
        if status is None:
            return AccountState(agreement_key=agreement_key)
        name = signed_in if signed_in is not None else self.signed_in
        return AccountState(
            signed_in=name,
            hint=status.hint,
            find_device=status.find_device,
            locked=status.locked,
            agreement_key=agreement_key,
        )

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "signed_in": self.signed_in,
                "hint": self.hint,
                "find_device": self.find_device,
                "locked": self.locked,
                "agreement_key": self.agreement_key,
            },
            indent=2,
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> AccountState:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("top level is not an object")
        return cls(
            signed_in=_text(data, "signed_in"),
            hint=_text(data, "hint"),
            find_device=_flag(data, "find_device"),
            locked=_flag(data, "locked"),
            agreement_key=_text(data, "agreement_key"),
        )


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    return value


def _flag(data: dict[str, Any], key: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value
