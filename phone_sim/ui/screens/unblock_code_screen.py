"""The vendor console's unblock code: the operator types the phone's challenge and reads out the code.

Opened with ``c`` on the device selected in the fleet. The code comes from the admin API
(``POST /admin/devices/{serial}/unblock-code``, in a thread worker): valid for that phone and that
challenge, once. Making it also releases the device at the vendor, so the phone stays unlocked
at its next contact (docs/OPERATOR.md section 7).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from phone_sim.protocol.device_secret import CHALLENGE_DIGITS, group_digits, normalise_digits
from phone_sim.ui.widgets.footer import PhoneFooter
from server_stub.admin.client import AdminClient, AdminClientError
from server_stub.admin.models import UnblockCode


class UnblockCodeScreen(ModalScreen[None]):
    CSS_PATH = "unblock_code_screen.tcss"
    BINDINGS = [
        Binding("escape", "dismiss", "Close"),
        Binding("f1", "app.toggle_keys", "Keys"),
    ]

    @dataclass
    class Made(Message):
        """The admin API made a code."""

        code: UnblockCode

    @dataclass
    class Refused(Message):
        """The admin API refused; ``text`` says why."""

        text: str

    def __init__(self, serial: str, admin: AdminClient) -> None:
        super().__init__()
        self.serial = serial
        self.admin = admin

    def compose(self) -> ComposeResult:
        with Vertical(id="code-dialog"):
            yield Static(f"[b]Unblock code[/b] for {self.serial}", id="code-title")
            yield Static(
                "Type the challenge the phone's lock screen shows (8 digits).", id="code-help"
            )
            with Horizontal(id="code-row"):
                yield Input(
                    placeholder="challenge",
                    id="challenge",
                    max_length=9,
                    restrict=r"[0-9 ]*",
                    compact=True,
                )
                yield Button("Make code", id="make", variant="primary", compact=True)
            yield Static("", id="code-result")
            with Horizontal(id="code-buttons"):
                yield Button("Close", id="close", compact=True)
        yield PhoneFooter()

    def on_mount(self) -> None:
        self.query_one("#challenge").focus()

    @on(Input.Submitted, "#challenge")
    @on(Button.Pressed, "#make")
    def _make(self) -> None:
        challenge = normalise_digits(self.query_one("#challenge", Input).value)
        if len(challenge) != CHALLENGE_DIGITS:
            self._result(f"[red]a challenge is {CHALLENGE_DIGITS} digits[/red]")
            return
        self._result("[cyan]asking the vendor server…[/cyan]")
        self._ask(challenge)

    @work(thread=True, exclusive=True, exit_on_error=False, group="console-code")
    def _ask(self, challenge: str) -> None:
        try:
            made = self.admin.unblock_code(self.serial, challenge)
        except AdminClientError as exc:  # shown, never raised
            self.post_message(self.Refused(str(exc)))
            return
        self.post_message(self.Made(made))

    def on_unblock_code_screen_made(self, message: Made) -> None:
        made = message.code
        app = self.app
        app.recovery.console_code = made.code  # type: ignore[attr-defined]
        first = next(iter(app.world))  # type: ignore[attr-defined]
        if made.serial == first.phone.identity.serial:
            # A replay's phone shows its own challenge, and its operator makes its own code.
            app.recorder.record("operator_unblock_code")  # type: ignore[attr-defined]
        released = (
            "\nThe device is released too: it stays unlocked at its next contact."
            if made.released
            else ""
        )
        self._result(
            f"Code [b reverse] {group_digits(made.code)} [/b reverse] for challenge "
            f"{group_digits(made.challenge)}: read it out. It works on this phone, against "
            f"this challenge, once.{released}"
        )

    def on_unblock_code_screen_refused(self, message: Refused) -> None:
        self._result(f"[red]{message.text}[/red]")

    def _result(self, text: str) -> None:
        self.query_one("#code-result", Static).update(text)

    @on(Button.Pressed, "#close")
    def _close(self) -> None:
        self.dismiss()
