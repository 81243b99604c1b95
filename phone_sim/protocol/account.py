"""Version 2: a device signs in to an account, signs out, or lifts the account lock.

PROTOCOL.md section 13.2. ``POST /v1/account`` takes an
:class:`~.account_request.AccountRequest`: everything an activation request holds (so the server
authenticates it the same way and answers with a verdict decided as at a check-in) plus
``account``: the action, the account's name and its password, sealed under the device's password
key (:mod:`.device_secret`). The account's names and rules are here, and the errors a password
can meet (every one an ``ErrorBody`` like section 9's); the request's pydantic models are in
``account_request.py``, so that naming an action loads no model
(docs/decisions/tui-first-frame-imports.md).
"""

from __future__ import annotations

from enum import StrEnum

from .errors import ProtocolError

#: an account's name: what the user signs in with (an e-mail address or a Mi Account ID)
ACCOUNT_NAME_PATTERN = r"^[a-z0-9][a-z0-9._%+@-]{2,63}$"
MIN_PASSWORD = 8
MAX_PASSWORD = 128
ACCOUNT_LOCKED_REASON = "ACCOUNT_LOCKED"
ACCOUNT_LOCK_MESSAGE = (
    "This device is locked. It is linked to a Mi Account: sign in with that account's "
    "password to use it."
)


class AccountAction(StrEnum):
    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    #: lift the account lock a factory reset put on the device (Find Device)
    UNLOCK = "unlock"


def normalise_account(name: str) -> str:
    """An account's name as the wire and the vendor keep it: trimmed, lower case."""
    return name.strip().lower()


def mask_account(name: str) -> str:
    """What a locked device shows of its account: ``a***@example.com``, ``12***89``."""
    local, at, domain = name.partition("@")
    if at:
        return f"{local[:1]}***@{domain}"
    return f"{name[:2]}***{name[-2:]}" if len(name) > 5 else f"{name[:1]}***"


def password_problem(password: str) -> str | None:
    """Why a password cannot be used, or None."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters"
    if not password.isprintable():
        return "a password is printable characters"
    return None


class AccountError(ProtocolError):
    """The account action cannot be done as asked (409): the message says why."""

    code = "account_refused"
    status = 409


class PasswordWrong(ProtocolError):
    """The password is not the account's (403); the failure counts against the limits."""

    code = "password_wrong"
    status = 403


class TooManyAttempts(ProtocolError):
    """The account, or this device, had too many wrong passwords lately (429, Retry-After)."""

    code = "too_many_attempts"
    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
