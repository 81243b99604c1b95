"""How a locked phone comes back, version 2 (PROTOCOL.md section 13): account and unblock code.

Mixed into :class:`~phone_sim.device.phone.Phone` (which owns state, storage, clock and the
requests); the rules themselves are plain values in ``account.py`` and ``unblock.py``.

* **The account.** An activated phone signs in (``begin_account(SIGN_IN, ...)``) or out; the
  request goes to ``/v1/account`` like a check-in and the answer is a verdict. A verdict that
  says the account lock holds keeps a phone in setup at "This device is locked", until the
  account's password goes through (``begin_account(UNLOCK, ...)``) or the vendor clears it.
* **The unblock code.** A locked phone shows an 8-digit challenge; the operator reads out the
  code for it (``vendor-server admin unblock-code``), and :meth:`enter_unblock_code` checks it
  against the phone's own secret, within the attempt limits of ``unblock.py``. A right code
  unlocks the phone until its next contact with the vendor, which decides again.

Nothing here trusts anything unsigned: the account state and the agreement key come only from
verdicts the phone accepted; the code is checked on the phone, by the phone's key.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import replace
from typing import TYPE_CHECKING

from phone_sim.protocol.account import (
    ACCOUNT_LOCKED_REASON,
    ACCOUNT_NAME_PATTERN,
    AccountAction,
    normalise_account,
    password_problem,
)
from phone_sim.protocol.contact import ContactKind
from phone_sim.protocol.device_secret import (
    CODE_DIGITS,
    DeviceSecret,
    is_digits,
    normalise_digits,
    seal_password,
    unblock_code,
)
from phone_sim.protocol.versions import PROTOCOL_V2

from .account import AccountState
from .errors import PhoneError, TransitionRefused
from .events import AccountIntent, ActivationAttempt, EventKind
from .exchange import Exchange
from .parts import PhoneParts
from .state import Action, Activation, DeviceState
from .unblock import UNBLOCKED_MESSAGE, UNBLOCKED_REASON, UnblockOutcome, UnblockState

if TYPE_CHECKING:
    from phone_sim.protocol.messages import Verdict

_ACTIONS = {
    AccountAction.SIGN_IN: Action.SIGN_IN,
    AccountAction.SIGN_OUT: Action.SIGN_OUT,
    AccountAction.UNLOCK: Action.UNLOCK_ACCOUNT,
}


class AccountInputError(PhoneError):
    """An account name or password the phone will not send (the message says why)."""


class RecoveryMixin(PhoneParts):
    """The account and the unblock code; see the module docstring."""

    #: the protocol version the phone asks in (1 after a version 1 vendor refused version 2)
    request_protocol: int = PROTOCOL_V2

    # --- what the screens read -----------------------------------------------------------

    @property
    def account_locked(self) -> bool:
        """The vendor said the account lock holds: setup stops at "This device is locked"."""
        return self.account.locked

    @property
    def unblock_challenge(self) -> str | None:
        """The challenge the lock screen shows (None: not locked, or no way to unblock)."""
        if self.state is not DeviceState.LOCKED or self.unblock_refusal() is not None:
            return None
        return self.unblock.challenge

    def unblock_attempts_left(self) -> int:
        return self.unblock.attempts_left(self.clock.now())

    def unblock_refusal(self) -> str | None:
        """Why this lock cannot take an unblock code at all, or None."""
        if self.identity.custom_rom:
            return "a custom ROM is never locked by its vendor"
        if self.persisted.reason == ACCOUNT_LOCKED_REASON:
            return "an account lock lifts with the account's password, not a code"
        if self.account.agreement_key is None:
            return "this phone holds no key from its vendor (no version 2 verdict yet)"
        return None

    # --- the account -----------------------------------------------------------------------

    def begin_account(
        self, action: AccountAction, name: str, password: str, *, find_device: bool = True
    ) -> ActivationAttempt:
        """Start an account request: its password sealed under the phone's own secret.

        Raises:
            TransitionRefused: not in this state, or no agreement key from the vendor yet.
            AccountInputError: a name or password the vendor would refuse anyway.
        """
        step = _ACTIONS[action]
        self._require(step)
        if action is AccountAction.UNLOCK and not self.account.locked:
            raise TransitionRefused(step, self.state, "the vendor has not locked this device")
        if action is AccountAction.SIGN_IN and self.account.hint is not None:
            raise TransitionRefused(step, self.state, "signed in already: sign out first")
        if action is AccountAction.SIGN_OUT and self.account.hint is None:
            raise TransitionRefused(step, self.state, "not signed in to an account")
        agreement = self.account.agreement_key
        if agreement is None or self.identity.custom_rom:
            raise TransitionRefused(
                step, self.state, "the vendor has given this phone no key (no version 2 verdict)"
            )
        account = normalise_account(name)
        if not re.fullmatch(ACCOUNT_NAME_PATTERN, account):
            raise AccountInputError(
                "an account is 3 to 64 letters, digits and . _ % + @ - (an e-mail address)"
            )
        problem = password_problem(password)
        if problem is not None:
            raise AccountInputError(problem)
        nonce = self._new_nonce()
        sealed = seal_password(
            self._secret(agreement), password, action=action.value, account=account, nonce=nonce
        )
        base = self.build_request(nonce)
        # loaded with the request, as build_request's models are
        from phone_sim.protocol.account_request import AccountBody, AccountRequest

        request = AccountRequest(
            **{k: v for k, v in base.model_dump().items() if k != "protocol"},
            account=AccountBody(
                action=action, name=account, password=sealed, find_device=find_device
            ),
        )
        attempt = ActivationAttempt(
            ContactKind.ACCOUNT,
            nonce,
            request,
            self.clock.now(),
            account=AccountIntent(action, account, find_device),
        )
        self.pending = attempt
        self.last_error = None
        if self.state is DeviceState.SETUP:
            self._enter(DeviceState.ACTIVATING)
        self._emit(EventKind.ACCOUNT, f"{action.value} {account} sent")
        return attempt

    def _secret(self, agreement: str) -> DeviceSecret:
        if self._device_key is None:
            raise TransitionRefused(
                Action.SIGN_IN, self.state, "this phone model has no device key to agree with"
            )
        return DeviceSecret.on_phone(self._device_key(), agreement, self.identity.serial)

    # --- the unblock code ------------------------------------------------------------------

    def enter_unblock_code(self, code: str) -> UnblockOutcome:
        """Check ``code`` against the challenge shown; a right one unlocks the phone.

        A code that is not 8 digits is a typing slip and costs no attempt.

        Raises:
            TransitionRefused: the phone is not locked, or this lock takes no code.
        """
        self._require(Action.ENTER_UNBLOCK_CODE)
        refusal = self.unblock_refusal()
        if refusal is not None:
            raise TransitionRefused(Action.ENTER_UNBLOCK_CODE, self.state, refusal)
        now = self.clock.now()
        self._show_challenge()
        left = self.unblock.attempts_left(now)
        digits = normalise_digits(code)
        if not is_digits(digits, CODE_DIGITS):
            return UnblockOutcome(False, f"an unblock code is {CODE_DIGITS} digits", left)
        if left == 0:
            return UnblockOutcome(False, self.unblock.why_none_left(now), 0)
        assert self.account.agreement_key is not None and self.unblock.challenge is not None
        expected = unblock_code(self._secret(self.account.agreement_key), self.unblock.challenge)
        if not hmac.compare_digest(digits, expected):
            self._save_unblock(self.unblock.failed(now))
            left = self.unblock.attempts_left(now)
            detail = (
                f"wrong unblock code: {left} attempt(s) left"
                if left
                else (f"wrong unblock code; {self.unblock.why_none_left(now)}")
            )
            self._emit(EventKind.ERROR, detail)
            return UnblockOutcome(False, detail, left)
        # The phone unlocks on its own until its vendor decides again: the offline rule (if its
        # last verdict had one) counts from now, and it checks in at its first chance.
        self._save(
            replace(
                self.persisted,
                activation=Activation.ACTIVATED,
                reason=UNBLOCKED_REASON,
                message=UNBLOCKED_MESSAGE,
                verdict_at=now,
                verdict_expires_at=None,
            )
        )
        self._save_unblock(self.unblock.succeeded(now))
        self._enter(DeviceState.ACTIVATED)
        self._want_checkin("unblocked")
        self._emit(EventKind.NOTICE, UNBLOCKED_MESSAGE)
        return UnblockOutcome(True, "unlocked with the unblock code", self.unblock_attempts_left())

    # --- hooks the phone calls ---------------------------------------------------------------

    def _show_challenge(self) -> None:
        """A locked phone has a challenge to show (drawn once, kept across reboots)."""
        if self.unblock.challenge is None:
            self._save_unblock(self.unblock.with_challenge(self._rng))

    def _took_verdict(self, verdict: Verdict, attempt: ActivationAttempt) -> None:
        """A verdict was accepted: the vendor is in contact; a version 2 one says the account."""
        self._save_unblock(self.unblock.after_contact())
        if verdict.protocol < PROTOCOL_V2:
            return
        intent = attempt.account
        proved = None
        if intent is not None and intent.action is not AccountAction.SIGN_OUT:
            proved = intent.name
        before = self.account
        after = before.after_verdict(verdict.account, verdict.agreement_key, signed_in=proved)
        if after != before:
            self._save_account(after)
            if after.hint != before.hint or after.locked != before.locked:
                self._emit(EventKind.ACCOUNT, _account_news(after))

    def _version_refused(self, attempt: ActivationAttempt, exchange: Exchange) -> None:
        """A version 1 vendor refuses ``protocol`` 2 as malformed: ask in version 1 until the
        next boot (PROTOCOL.md section 12). It costs the phone only version 2's features."""
        if (
            exchange.server_code == "malformed_request"
            and attempt.request.protocol >= PROTOCOL_V2
            and attempt.kind in (ContactKind.ACTIVATION, ContactKind.CHECKIN)
            and "protocol" in (exchange.error or "")
        ):
            self.request_protocol = 1
            self._emit(
                EventKind.NOTICE,
                "The activation server speaks protocol version 1: asking in version 1 "
                "(no Mi Account, no unblock codes)",
            )
            self._want_checkin("protocol version 1")

    def _reset_recovery(self) -> None:
        """A factory reset: the account is forgotten, the unblock counts are kept."""
        self.account = AccountState()
        self._save_unblock(self.unblock.after_reset())

    def _save_account(self, account: AccountState) -> None:
        if self.storage is not None:
            self.storage.save_account(account)
        self.account = account

    def _save_unblock(self, unblock: UnblockState) -> None:
        if unblock == self.unblock:
            return
        if self.storage is not None:
            self.storage.save_unblock(unblock)
        self.unblock = unblock


def _account_news(account: AccountState) -> str:
    if account.hint is None:
        return "Signed out of the Mi Account"
    if account.locked:
        return f"This device is locked to the Mi Account {account.hint}"
    where = "on" if account.find_device else "off"
    return f"Mi Account {account.signed_in or account.hint}, Find Device {where}"
