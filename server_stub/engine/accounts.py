"""The account rules: Find Device's lock after a factory reset, and the password that lifts it.

PROTOCOL.md section 13.2, docs/OPERATOR.md section 7. A device **signs in** to an account
(``POST /v1/account``, action ``sign_in``): the vendor creates the account the first time its
name is used (scrypt hash, ``passwords``), else checks the password, and **binds** the device
to it, with Find Device on unless asked otherwise.

* **The lock.** An *activation* (a phone in setup asks: after a factory reset) of a device bound
  with Find Device on **engages the account lock**: from then every verdict the device gets says
  ``locked``, reason ``ACCOUNT_LOCKED`` (a version 2 verdict also carries ``account.locked``),
  whatever the policy says. The policy still decides, and its decision is kept and audited: the
  account lock and the vendor's own locks are independent, and once the account lock is lifted
  the policy's decision (an embargo lock, say) is what the phone gets.
* **Lifting it.** The phone sends the account's name and password (action ``unlock``); or the
  operator clears the binding (``server_stub.admin.accounts``). A right password keeps the
  binding (the owner is back: the next reset locks again); a cleared one is gone.
* **Guessing.** At most :data:`MAX_WRONG_PER_ACCOUNT` wrong passwords per account and
  :data:`MAX_WRONG_PER_DEVICE` per device in any :data:`WINDOW` of the server's clock; then 429
  ``too_many_attempts`` with ``Retry-After``, before any hashing. The limits are checked before
  the password is hashed (outside the store's write lock) and again inside the transaction that
  records the outcome, so concurrent guesses cannot pass them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from phone_sim.protocol.account import (
    ACCOUNT_LOCK_MESSAGE,
    ACCOUNT_LOCKED_REASON,
    AccountAction,
    AccountError,
    TooManyAttempts,
    mask_account,
    password_problem,
)
from phone_sim.protocol.account_request import AccountRequest
from phone_sim.protocol.contact import ContactKind
from phone_sim.protocol.device_secret import DeviceSecret, open_password
from phone_sim.protocol.errors import MalformedMessage
from phone_sim.protocol.messages import AccountStatus
from server_stub.engine.context import ServerContext
from server_stub.engine.passwords import new_account, password_matches
from server_stub.store.accounts import AccountRow, AccountRows, Binding

#: the window the wrong passwords are counted in: 24 hours of the server's clock
WINDOW = 86_400
MAX_WRONG_PER_ACCOUNT = 5
MAX_WRONG_PER_DEVICE = 10

__all__ = [
    "ACCOUNT_LOCKED_REASON",
    "ACCOUNT_LOCK_MESSAGE",
    "AccountAttempt",
    "AccountChange",
    "account_status",
    "apply",
    "engage",
    "prepare",
]


@dataclass(frozen=True)
class AccountAttempt:
    """An account request whose password was opened and checked outside the transaction."""

    action: AccountAction
    name: str
    find_device: bool
    #: the account as it was when the password was checked (None: nobody has the name)
    seen: AccountRow | None
    #: the row a sign-in to a new name creates
    made: AccountRow | None
    #: the password is the account's (a new account's is whatever was given)
    right: bool


@dataclass(frozen=True)
class AccountChange:
    """What an account request did, for the audit log (and the error a wrong password gets)."""

    kind: str  # the audit entry's kind: sign-in, sign-out, account-unlock, password-wrong
    account: str
    binding: Binding | None
    failed: bool = False
    attempts_left: int = 0
    created: bool = False

    @property
    def rule(self) -> str:
        return _RULES[self.kind]

    def detail(self) -> dict[str, object]:
        return {
            "account": self.account,
            "created": self.created,
            "find_device": None if self.binding is None else self.binding.find_device,
            "attempts_left": self.attempts_left if self.failed else None,
        }


_RULES = {
    "sign-in": "account:sign-in",
    "sign-out": "account:sign-out",
    "account-unlock": "account:unlock",
    "password-wrong": "account:password-wrong",
}


def _failures_message(what: str, limit: int, retry: int) -> str:
    hours, minutes = divmod(max(retry, 60) // 60, 60)
    return (
        f"too many wrong passwords for {what}: {limit} in 24 hours; "
        f"try again in {hours} h {minutes:02d} min"
    )


def _check_limits(rows: AccountRows, *, account: str, serial: str, now: int) -> int:
    """How many more wrong passwords may be tried now (the lower of the two limits).

    Raises:
        TooManyAttempts: none; ``retry_after`` says when the oldest counted failure leaves
            the window.
    """
    since = now - WINDOW
    left = []
    for failures, limit, what in (
        (rows.failures(account=account, after=since), MAX_WRONG_PER_ACCOUNT, "this account"),
        (rows.failures(serial=serial, after=since), MAX_WRONG_PER_DEVICE, "this device"),
    ):
        if len(failures) >= limit:
            retry = max(1, failures[-limit] + WINDOW - now)
            raise TooManyAttempts(_failures_message(what, limit, retry), retry_after=retry)
        left.append(limit - len(failures))
    return min(left)


def _problem(action: AccountAction, name: str, binding: Binding | None) -> str | None:
    """Why this action cannot be taken on a device bound as ``binding`` (409), or None."""
    if action is AccountAction.UNLOCK:
        return None if binding is not None and binding.locked else "this device has no account lock"
    if binding is not None and binding.locked:
        return "the account lock holds: unlock it with the account's password first"
    if action is AccountAction.SIGN_IN and binding is not None and binding.account != name:
        return "this device is signed in to another account: sign out first"
    if action is AccountAction.SIGN_OUT and (binding is None or binding.account != name):
        return "this device is not signed in to that account"
    return None


def prepare(
    context: ServerContext, secret: DeviceSecret, request: AccountRequest, *, now: int
) -> AccountAttempt:
    """Open the sealed password and check it against the account (CPU work: no write lock).

    Raises:
        MalformedMessage: the password does not open, or is no valid password.
        AccountError: the action does not fit the device's binding.
        TooManyAttempts: the limits are reached already (nothing is hashed).
    """
    body = request.account
    password = open_password(
        secret, body.password, action=body.action.value, account=body.name, nonce=request.nonce
    )
    problem = password_problem(password)
    if problem is not None:
        raise MalformedMessage(f"account.password: {problem}")
    with context.store.read() as tx:
        binding = tx.accounts.binding(secret.serial)
        refusal = _problem(body.action, body.name, binding)
        if refusal is not None:
            raise AccountError(refusal)
        # An unlock is checked against the account the device is bound to, whatever was typed.
        target = binding.account if body.action is AccountAction.UNLOCK and binding else body.name
        _check_limits(tx.accounts, account=target, serial=secret.serial, now=now)
        seen = tx.accounts.account(target)
    if seen is None and body.action is AccountAction.SIGN_IN:
        made = new_account(body.name, password, at=now)
        return AccountAttempt(body.action, body.name, body.find_device, None, made, right=True)
    right = seen is not None and target == body.name and password_matches(seen, password)
    return AccountAttempt(body.action, body.name, body.find_device, seen, None, right)


def apply(rows: AccountRows, attempt: AccountAttempt, *, serial: str, now: int) -> AccountChange:
    """Record the attempt in the contact's transaction: a failure, or the binding it makes.

    Raises:
        AccountError: the binding or the account changed since the password was checked.
        TooManyAttempts: concurrent guesses used up the limit meanwhile.
    """
    binding = rows.binding(serial)
    refusal = _problem(attempt.action, attempt.name, binding)
    if refusal is not None:
        raise AccountError(refusal)
    target = binding.account if attempt.action is AccountAction.UNLOCK and binding else attempt.name
    left = _check_limits(rows, account=target, serial=serial, now=now)
    if rows.account(target) != attempt.seen:
        raise AccountError("the account changed while its password was checked; try again")
    if not attempt.right:
        rows.prune_failures(before=now - WINDOW)
        rows.add_failure(account=target, serial=serial, at=now)
        return AccountChange("password-wrong", target, binding, failed=True, attempts_left=left - 1)
    rows.forget_failures(account=target, serial=serial)
    if attempt.made is not None:
        rows.add_account(attempt.made)
    if attempt.action is AccountAction.SIGN_OUT:
        rows.drop_binding(serial)
        return AccountChange("sign-out", target, None)
    if attempt.action is AccountAction.UNLOCK:
        assert binding is not None
        unlocked = replace(binding, locked_at=None)
        rows.save_binding(unlocked)
        return AccountChange("account-unlock", target, unlocked)
    bound = Binding(serial, attempt.name, attempt.find_device, bound_at=now)
    rows.save_binding(bound)
    return AccountChange("sign-in", target, bound, created=attempt.made is not None)


def engage(
    rows: AccountRows, serial: str, kind: ContactKind, *, now: int
) -> tuple[Binding | None, bool]:
    """The device's binding after this contact, and whether the contact engaged the lock.

    An activation (setup asking: the phone was reset) of a device bound with Find Device on
    engages the account lock; nothing else does.
    """
    binding = rows.binding(serial)
    if (
        kind is ContactKind.ACTIVATION
        and binding is not None
        and binding.find_device
        and not binding.locked
    ):
        binding = replace(binding, locked_at=now)
        rows.save_binding(binding)
        return binding, True
    return binding, False


def account_status(binding: Binding | None) -> AccountStatus | None:
    """What a version 2 verdict says of the device's account (None: not bound)."""
    if binding is None:
        return None
    return AccountStatus(
        hint=mask_account(binding.account), find_device=binding.find_device, locked=binding.locked
    )
