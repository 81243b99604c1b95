"""The driver's version 2 verbs: the account (sign in, out, unlock) and the unblock code.

Mixed into :class:`~phone_sim.scenario.driver.PhoneDriver`; each verb returns what happened in a
few words, as the other verbs do. A refused password or a wrong code is an outcome to print
(the step passes; its expectations say what must hold), not a driver error; a verb the phone
cannot take in its state is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from phone_sim.device.errors import PhoneError
from phone_sim.device.events import VerdictOutcome
from phone_sim.device.phone import Phone
from phone_sim.device.screens import Screen
from phone_sim.protocol.account import AccountAction
from phone_sim.world.phones import WorldPhone

from .errors import DriverError
from .outcomes import describe_outcomes
from .subject import Check

if TYPE_CHECKING:
    from .world import ScenarioWorld

_T = TypeVar("_T")


class AccountVerbs:
    """Sign in and out, lift an account lock, make and type unblock codes."""

    #: the code the operator made last (``operator_unblock_code``), for ``enter_unblock_code``
    unblock_code: str | None = None

    if TYPE_CHECKING:
        world: ScenarioWorld
        world_phone: WorldPhone
        phone: Phone

        @property
        def screen(self) -> Screen: ...
        def _ident(self, by: str) -> str: ...
        def expect(self, key: str, value: object) -> Check: ...

    def _phone(self, action: Callable[[], _T]) -> _T:
        try:
            return action()
        except PhoneError as exc:
            raise DriverError(f"the phone refused: {exc}") from exc

    def _account(self, action: AccountAction, account: str, password: str, **kw: bool) -> str:
        outcome: VerdictOutcome = self._phone(
            lambda: self.world_phone.account(action, account, password, **kw)
        )
        if not outcome.accepted:
            return f"refused: {outcome.detail}; screen {self.screen}"
        return describe_outcomes(self.phone, [outcome]) + f"; screen {self.screen}"

    def sign_in(self, account: str, password: str, *, find_device: bool = True) -> str:
        """Sign in to ``account`` (the vendor creates it the first time), Find Device on."""
        return self._account(AccountAction.SIGN_IN, account, password, find_device=find_device)

    def sign_out(self, password: str) -> str:
        """Sign out of the account the phone is signed in to."""
        account = self.phone.account.signed_in
        if account is None:
            raise DriverError("sign_out needs a phone signed in to an account on this phone")
        return self._account(AccountAction.SIGN_OUT, account, password)

    def unlock_account(self, account: str, password: str) -> str:
        """At "This device is locked": the account's name and password."""
        return self._account(AccountAction.UNLOCK, account, password)

    def operator_clear_account(self, reason: str, by: str = "serial") -> str:
        return self.world.vendor.clear_account(self._ident(by), reason)

    def operator_unblock_code(
        self, challenge: str | None = None, *, reason: str | None = None, by: str = "serial"
    ) -> str:
        """The operator makes the code for ``challenge`` (default: the one the phone shows);
        the driver keeps it for :meth:`enter_unblock_code`."""
        if challenge is None:
            challenge = self.phone.unblock_challenge
            if challenge is None:
                why = self.phone.unblock_refusal() or f"the phone is {self.phone.state}"
                raise DriverError(f"the phone shows no unblock challenge: {why}")
        text, self.unblock_code = self.world.vendor.unblock_code(self._ident(by), challenge, reason)
        return text

    def enter_unblock_code(self, code: str | None = None) -> str:
        """Type ``code`` (default: the one the operator made last) on the lock screen."""
        if code is None:
            code = self.unblock_code
            if code is None:
                raise DriverError("no unblock code to type: make one first (operator_unblock_code)")
        typed = code
        outcome = self._phone(lambda: self.phone.enter_unblock_code(typed))
        if outcome.unlocked:
            ran = self.world_phone.run_due()
            after = f"; checked in: {describe_outcomes(self.phone, ran)}" if ran else ""
            return f"unlocked{after}; screen {self.screen}"
        return f"{outcome.detail}; screen {self.screen}"

    # One method per version 2 expectation key, ``(ok, detail)``.

    def expect_account_locked(self, locked: bool) -> Check:
        return self.expect("account_locked", locked)

    def expect_signed_in(self, account: str) -> Check:
        return self.expect("signed_in", account)

    def expect_server_account(self, state: str) -> Check:
        return self.expect("server_account", state)

    def expect_unblock_attempts_left(self, count: int) -> Check:
        return self.expect("unblock_attempts_left", count)
