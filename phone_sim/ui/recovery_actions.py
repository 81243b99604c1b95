"""The app's version 2 actions: the Mi Account (sign in, out, unlock) and the unblock code.

The app holds one (``app.recovery``); widgets and the palette call it. An account request is started like an
activation (the phone builds it, a thread worker sends it, ``on_vendor_answered`` hands the
answer back to the phone); an unblock code is checked by the phone alone, on the UI thread.
What the user does is recorded as scenario steps, without the password (a recording is a file
anyone may read) and, when the code typed is the one the vendor console just made, without the
code (a replay's phone has other keys, so its operator makes its own).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import SystemCommand

from phone_sim.device.errors import PhoneError
from phone_sim.device.state import DeviceState
from phone_sim.protocol.account import AccountAction
from phone_sim.ui.recorder import WITHHELD
from phone_sim.ui.screens.later import ACCOUNT

if TYPE_CHECKING:
    from phone_sim.ui.app import PhoneApp

_STEPS = {
    AccountAction.SIGN_IN: "sign_in",
    AccountAction.SIGN_OUT: "sign_out",
    AccountAction.UNLOCK: "unlock_account",
}


class RecoveryActions:
    """See the module docstring."""

    def __init__(self, app: PhoneApp) -> None:
        self.app = app
        #: the last unblock code the vendor console made, so a recording can leave it out
        self.console_code: str | None = None

    def start_account(
        self, action: AccountAction, name: str, password: str, *, find_device: bool = True
    ) -> None:
        """Send an account request for the phone in view (its answer comes as a verdict)."""
        app = self.app
        phone = app.phone
        if app._records(app.current):
            args: dict[str, str | bool] = {"password": WITHHELD}
            if action is not AccountAction.SIGN_OUT:
                args = {"account": name.strip().lower(), **args}
            if action is AccountAction.SIGN_IN and not find_device:
                args["find_device"] = False
            app.recorder.record(_STEPS[action], **args)
        app._start(
            app.current,
            lambda: phone.begin_account(action, name, password, find_device=find_device),
        )

    def enter_unblock_code(self, code: str) -> str | None:
        """Type ``code`` on the lock screen: None once the phone unlocked, else what went wrong."""
        app = self.app
        phone = app.phone
        if app._records(app.current):
            made = code.replace(" ", "") == self.console_code
            app.recorder.record("enter_unblock_code", **({} if made else {"code": code}))
        try:
            outcome = phone.enter_unblock_code(code)
        except PhoneError as exc:
            app.notify(str(exc), severity="warning")
            return str(exc)
        app.sync_screen()
        if outcome.unlocked:
            return None
        return outcome.detail

    def open_account(self) -> None:
        """Mi Account: sign in (or out, when signed in); only an activated phone has one."""
        phone = self.app.phone
        if phone.state is not DeviceState.ACTIVATED or phone.identity.custom_rom:
            self.app.notify("The Mi Account is signed in to from the home screen", timeout=3)
            return
        signed_in = phone.account.hint is not None
        self.app.push_screen(
            ACCOUNT()(AccountAction.SIGN_OUT if signed_in else AccountAction.SIGN_IN)
        )

    def commands(self) -> Iterable[SystemCommand]:
        """The palette's Mi Account entries for the phone in view."""
        phone = self.app.phone
        if phone.state is not DeviceState.ACTIVATED or phone.identity.custom_rom:
            return
        if phone.account.hint is None:
            yield SystemCommand(
                "Mi Account: sign in",
                "Sign in with Find Device on (a factory reset then locks the phone)",
                self.open_account,
            )
        else:
            yield SystemCommand(
                "Mi Account: sign out",
                f"Sign out of {phone.account.signed_in or phone.account.hint} (asks the password)",
                self.open_account,
            )
