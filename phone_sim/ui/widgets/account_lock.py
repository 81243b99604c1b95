"""Setup's "This device is locked": the account lock after a factory reset (Find Device).

Shown by the setup wizard while the vendor says the account lock holds. The user types the
account's name and password (the password box hides what is typed) and *Unlock* sends them
through the app (``app.recovery.start_account``); *Ask again* asks the vendor anew, for when its
support has cleared the lock. The widget renders the phone; it decides nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, Static

from phone_sim.device.state import DeviceState
from phone_sim.protocol.account import MAX_PASSWORD, AccountAction
from phone_sim.ui.widgets.fields import NextFieldInput

if TYPE_CHECKING:
    from phone_sim.ui.app import PhoneApp

LOCKED_TEXT = (
    "This device is linked to the Mi Account [b]{hint}[/b] and Find Device is on. "
    "Sign in with that account to use it."
)


class AccountLockPanel(VerticalScroll):
    DEFAULT_CSS = """
    AccountLockPanel { height: 1fr; }
    AccountLockPanel #account-title { text-style: bold; color: $error; margin-bottom: 1; }
    AccountLockPanel #account-text { margin-bottom: 1; }
    AccountLockPanel Input { margin-bottom: 1; width: 100%; max-width: 60; }
    AccountLockPanel #account-buttons { height: auto; }
    AccountLockPanel #account-buttons Button { margin-right: 1; }
    AccountLockPanel #account-status { margin-bottom: 1; }
    """

    def compose(self) -> ComposeResult:
        yield Static("🔒 This device is locked", id="account-title")
        yield Static("", id="account-text")
        # Above the boxes, so that a refusal is seen without scrolling at 80x24.
        yield Static("", id="account-status")
        yield NextFieldInput(
            placeholder="Mi Account (e-mail or ID)",
            id="account-name",
            max_length=64,
            compact=True,
        )
        yield Input(
            placeholder="Password",
            password=True,
            id="account-password",
            max_length=MAX_PASSWORD,
            compact=True,
        )
        with Horizontal(id="account-buttons"):
            yield Button("Unlock", id="account-unlock", variant="primary")
            yield Button("Ask again", id="account-retry")

    @property
    def phone_app(self) -> PhoneApp:
        return cast("PhoneApp", self.app)

    def render_phone(self) -> None:
        phone = self.phone_app.phone
        self.query_one("#account-text", Static).update(
            LOCKED_TEXT.format(hint=phone.account.hint or "this phone was last signed in to")
        )
        status = self.query_one("#account-status", Static)
        if phone.state is DeviceState.ACTIVATING:
            status.update("[cyan]Checking with the activation server…[/cyan]")
        elif phone.last_error:
            status.update(f"[red]{phone.last_error}[/red]")
        else:
            status.update(
                "[dim]Forgot the password? The seller or support can remove the lock.[/dim]"
            )

    @on(Input.Submitted, "#account-password")
    @on(Button.Pressed, "#account-unlock")
    def _unlock(self) -> None:
        name = self.query_one("#account-name", Input).value
        password_box = self.query_one("#account-password", Input)
        password, password_box.value = password_box.value, ""  # never kept on screen
        self.phone_app.recovery.start_account(AccountAction.UNLOCK, name, password)

    @on(Button.Pressed, "#account-retry")
    def _ask_again(self) -> None:
        self.phone_app.request_activation()
