"""The lock screen's unblock code: the challenge to read out, and a box to type the code in.

"One report saw an unblock code on screen with nowhere to type it" (STORY.md). Here the lock
screen shows the phone's 8-digit challenge; the vendor's support makes the code for it
(vendor console ``c``, or ``vendor-server admin unblock-code``), and the user types it here.
Attempts are limited on the phone (``phone_sim/device/unblock.py``): the panel says how many
are left. It is hidden when the lock takes no code (an account lock, a phone with no key from a
version 2 vendor). The widget renders the phone; the phone decides.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Static

from phone_sim.protocol.device_secret import group_digits

if TYPE_CHECKING:
    from phone_sim.ui.app import PhoneApp


class UnblockPanel(Vertical):
    #: what the last code typed got, shown until the next one
    _outcome: str | None = None

    DEFAULT_CSS = """
    UnblockPanel { height: auto; padding: 0 1; }
    UnblockPanel #unblock-challenge { width: 100%; text-align: center; }
    UnblockPanel #unblock-row { height: auto; }
    UnblockPanel #unblock-code { width: 14; }
    UnblockPanel #unblock { margin: 0 1; width: auto; min-width: 8; }
    UnblockPanel #unblock-status { width: 1fr; height: auto; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", id="unblock-challenge")
        with Horizontal(id="unblock-row"):
            yield Input(
                placeholder="code",
                id="unblock-code",
                max_length=9,
                restrict=r"[0-9 ]*",
                compact=True,
            )
            yield Button("Unlock", id="unblock", compact=True)
            yield Static("", id="unblock-status")

    @property
    def phone_app(self) -> PhoneApp:
        return cast("PhoneApp", self.app)

    def render_phone(self) -> None:
        phone = self.phone_app.phone
        challenge = phone.unblock_challenge
        self.display = challenge is not None
        if challenge is None:
            return
        self.query_one("#unblock-challenge", Static).update(
            f"Unblock code: read challenge [b]{group_digits(challenge)}[/b] to support"
        )
        left = phone.unblock_attempts_left()
        status = self.query_one("#unblock-status", Static)
        if left == 0:
            status.update(f"[red]{phone.unblock.why_none_left(phone.clock.now())}[/red]")
        elif self._outcome is not None:
            status.update(f"[red]{self._outcome}[/red]")
        else:
            status.update(f"[dim]{left} attempt(s) left[/dim]")

    @on(Input.Submitted, "#unblock-code")
    @on(Button.Pressed, "#unblock")
    def _enter(self) -> None:
        box = self.query_one("#unblock-code", Input)
        code, box.value = box.value, ""
        self._outcome = self.phone_app.recovery.enter_unblock_code(code)
        self.render_phone()
        # Out of the box again: a box that keeps the focus swallows the app's keys (v, t, a...);
        # the lock screen's c comes back to it.
        self.query_one("#unblock", Button).focus()

    def focus_code(self) -> bool:
        """Put the cursor in the code box (the lock screen's ``c``); False when there is none."""
        if not self.display:
            return False
        self.query_one("#unblock-code", Input).focus()
        return True
