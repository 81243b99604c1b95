"""Mi Account: sign the phone in (with Find Device) or out, from the command palette.

A small dialog over the phone. Signing in takes the account's name and password, and Find Device
(on by default, as MIUI sets it: a factory reset then locks the phone to the account); signing
out takes the password. The request goes through the app (``app.recovery.start_account``) and its
answer shows as a notice; the dialog closes as it is sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

from phone_sim.protocol.account import MAX_PASSWORD, AccountAction
from phone_sim.ui.widgets.fields import NextFieldInput
from phone_sim.ui.widgets.footer import PhoneFooter

if TYPE_CHECKING:
    from phone_sim.ui.app import PhoneApp


class AccountScreen(ModalScreen[None]):
    CSS_PATH = "account_screen.tcss"
    BINDINGS = [
        Binding("escape", "dismiss", "Cancel"),
        Binding("f1", "app.toggle_keys", "Keys"),
    ]

    def __init__(self, action: AccountAction) -> None:
        super().__init__()
        self.action = action

    @property
    def phone_app(self) -> PhoneApp:
        return cast("PhoneApp", self.app)

    def compose(self) -> ComposeResult:
        account = self.phone_app.phone.account
        signing_in = self.action is AccountAction.SIGN_IN
        with Vertical(id="account-dialog"):
            if signing_in:
                yield Static("[b]Sign in to your Mi Account[/b]", id="account-dialog-title")
                yield NextFieldInput(
                    placeholder="Mi Account (e-mail or ID)", id="dialog-name", max_length=64
                )
            else:
                shown = account.signed_in or account.hint or "your Mi Account"
                yield Static(f"[b]Sign out of {shown}[/b]", id="account-dialog-title")
            yield Input(
                placeholder="Password", password=True, id="dialog-password", max_length=MAX_PASSWORD
            )
            if signing_in:
                yield Checkbox("Find Device (a reset locks the phone)", True, id="find-device")
            with Horizontal(id="account-dialog-buttons"):
                yield Button("Cancel", id="dialog-cancel")
                label = "Sign in" if signing_in else "Sign out"
                yield Button(label, id="dialog-go", variant="primary")
        yield PhoneFooter()

    def on_mount(self) -> None:
        first = "#dialog-name" if self.action is AccountAction.SIGN_IN else "#dialog-password"
        self.query_one(first).focus()

    @on(Button.Pressed, "#dialog-cancel")
    def _cancel(self) -> None:
        self.dismiss()

    @on(Input.Submitted, "#dialog-password")
    @on(Button.Pressed, "#dialog-go")
    def _go(self) -> None:
        app = self.phone_app
        password = self.query_one("#dialog-password", Input).value
        if self.action is AccountAction.SIGN_IN:
            name = self.query_one("#dialog-name", Input).value
            find_device = self.query_one("#find-device", Checkbox).value
        else:
            name = app.phone.account.signed_in or ""
            find_device = True
        self.dismiss()
        app.recovery.start_account(self.action, name, password, find_device=find_device)
