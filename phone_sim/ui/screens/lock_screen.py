"""The full lock screen a refused phone shows, as reported in 2021.

Black, a lock icon, the vendor's message, the vendor's contact details when its verdicts carry
them (protocol 2: a phone number and an e-mail address), the reason code and the IMEI. It
offers an emergency
call (which works), Wi-Fi settings and a retry, and nothing that leaves it: the screen has no
binding that pops it, and the app only replaces it when the phone itself stops being locked.
Version 2: the challenge of an unblock code, and a box to type the code in (``UnblockPanel``).
"""

from __future__ import annotations

import datetime as dt

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

from phone_sim.ui.widgets.unblock_panel import UnblockPanel

from .base import PhoneScreen
from .dialer_screen import DialerScreen

LOCK_ICON = """\
  ▄▀▀▀▄
  █   █
▄▄█▄▄▄█▄▄
█████████
████ ████
█████████"""


class LockScreen(PhoneScreen):
    CSS_PATH = "lock_screen.tcss"
    BINDINGS = [
        Binding("e", "emergency", "Emergency"),
        Binding("w", "wifi", "Wi-Fi"),
        Binding("ctrl+r", "retry", "Retry"),
        Binding("c", "unblock_code", "Code"),
        # Escape on a phone's lock screen does nothing; say so instead of leaving.
        Binding("escape", "stay", "Stays locked", show=False),
    ]

    def compose_face(self) -> ComposeResult:
        with Vertical(id="lock"):
            yield Static(LOCK_ICON, id="lock-icon")
            with VerticalScroll(id="lock-body"):
                yield Static("", id="lock-message")
                yield Static("", id="lock-details")
                yield Static("", id="lock-outcome")
            # Outside the scrolling body: whom to call stays in view under a long message.
            yield Static("", id="lock-contact")
            yield UnblockPanel(id="unblock-panel")
            with Horizontal(id="lock-actions"):
                yield Button("Emergency call", id="emergency", variant="error")
                yield Button("Wi-Fi", id="wifi")
                yield Button("Retry", id="retry")

    #: how many exchanges the phone had when Retry was pressed (None: no retry to report)
    _retry_from: int | None = None
    #: the retry outcome on screen (scrolled into view when it changes)
    _outcome_shown = ""

    def on_mount(self) -> None:
        self.ready = True
        self.refresh_face()
        for button in self.query("#emergency"):
            button.focus()

    def render_face(self) -> None:
        phone = self.phone
        self.query_one("#lock-message", Static).update(
            phone.lock_message or "This device is locked."
        )
        contact = self.query_one("#lock-contact", Static)
        contact.update(f"[dim]Contact[/dim] {escape(phone.lock_contact)}")
        contact.display = bool(phone.lock_contact)
        pending = "\n[cyan]Contacting the activation server…[/cyan]" if phone.pending else ""
        error = f"\n[red]{phone.last_error}[/red]" if phone.last_error else ""
        self.query_one("#lock-details", Static).update(
            f"[dim]Reason code[/dim] {phone.lock_reason or '—'}\n"
            f"[dim]IMEI[/dim] {phone.identity.imeis[0]}\n"
            f"[dim]Model[/dim] {phone.identity.model}{pending}{error}"
        )
        outcome = self._retry_outcome()
        shown = self.query_one("#lock-outcome", Static)
        if outcome != self._outcome_shown:
            self._outcome_shown = outcome
            shown.update(outcome)
            if outcome:
                # At 80x24 the message and details fill the body: a new answer below them
                # would be out of sight, so the body scrolls to it (once, not on every tick).
                self.call_after_refresh(shown.scroll_visible, animate=False)
        self.query_one(UnblockPanel).render_phone()

    def _retry_outcome(self) -> str:
        """What the last Retry got, shown until the user does something else."""
        if self._retry_from is None:
            return ""
        phone = self.phone
        answers = phone.exchanges[self._retry_from :]
        if not answers:
            return "[cyan]Retry: asking the vendor…[/cyan]"
        last = answers[-1]
        when = dt.datetime.fromtimestamp(last.sent_at, tz=dt.UTC).strftime("%d %b %H:%M")
        if last.verdict is None:
            return f"[red]Retry at {when} failed: {last.error or 'no answer'}[/red]"
        return (
            f"[yellow]Retry at {when}: the vendor answered {last.verdict.status.value} "
            f"({last.verdict.reason}). The phone stays locked.[/yellow]"
        )

    def _forget_retry(self) -> None:
        self._retry_from = None
        self.refresh_face()

    @on(Button.Pressed, "#emergency")
    def action_emergency(self) -> None:
        self._forget_retry()
        self.app.push_screen(DialerScreen(emergency_only=True))

    @on(Button.Pressed, "#wifi")
    def action_wifi(self) -> None:
        self._forget_retry()
        server = self.phone_app.current.client.base_url
        self.notify(f"Wi-Fi: connected (simulated). Activation server {server}", timeout=4)

    @on(Button.Pressed, "#retry")
    def action_retry(self) -> None:
        self._retry_from = len(self.phone.exchanges)
        self.phone_app.request_activation()
        self.refresh_face()

    def action_unblock_code(self) -> None:
        """Into the unblock code box (when this lock takes a code)."""
        if not self.query_one(UnblockPanel).focus_code():
            self.notify("This lock takes no unblock code.", timeout=3)

    def action_stay(self) -> None:
        self.notify("This device is locked.", timeout=2)
