"""Version 2's expectations: the account lock, the account, the unblock code's attempts.

Merged into :data:`phone_sim.scenario.expectations.EXPECTATIONS`; each reads the device model or
the vendor's admin API and changes neither, as every check does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server_stub.admin.client import AdminClientError

from .errors import DriverError
from .subject import Check, Subject, mask_ports


def _check(ok: bool, detail: str) -> Check:
    return Check(ok, detail)


def expect_account_locked(s: Subject, locked: bool) -> Check:
    """The phone stops at "This device is locked" (the vendor's account lock holds)."""
    got = s.phone.account_locked
    hint = f" to {s.phone.account.hint}" if s.phone.account.hint else ""
    return _check(got == locked, f"account lock {'holds' if got else 'does not hold'}{hint}")


def expect_signed_in(s: Subject, account: str) -> Check:
    """The account the phone is signed in to ("" for none)."""
    got = s.phone.account.signed_in or ""
    return _check(got == account.lower(), f"signed in to {got or 'no account'}")


def expect_server_account(s: Subject, state: str) -> Check:
    """The vendor's view of the device's account: none, bound or locked."""
    try:
        account = s.admin.device(s.serial).account
    except (AdminClientError, DriverError) as exc:
        return _check(False, f"the vendor cannot say: {mask_ports(str(exc))}")
    got = "none" if account is None else ("locked" if account.locked else "bound")
    where = "" if account is None else f" ({account.name})"
    return _check(got == state, f"the vendor shows the account {got}{where}")


def expect_unblock_attempts_left(s: Subject, count: int) -> Check:
    got = s.phone.unblock_attempts_left()
    return _check(got == count, f"{got} unblock attempt(s) left")


ACCOUNT_EXPECTATIONS: dict[str, Callable[[Subject, Any], Check]] = {
    "account_locked": expect_account_locked,
    "signed_in": expect_signed_in,
    "server_account": expect_server_account,
    "unblock_attempts_left": expect_unblock_attempts_left,
}
