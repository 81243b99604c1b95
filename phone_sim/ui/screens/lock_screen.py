"""The full lock screen a refused phone shows, as reported in 2021.

Black, a lock icon, the vendor's message, the reason code and the IMEI. It offers an emergency
call (which works), Wi-Fi settings and a retry, and nothing that leaves it: the screen has no
binding that pops it, and the app only replaces it when the phone itself stops being locked.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, Static

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
        Binding("e", "emergency", "Emergency call"),
        Binding("w", "wifi", "Wi-Fi settings"),
        Binding("ctrl+r", "retry", "Retry"),
        # Escape on a phone's lock screen does nothing; say so instead of leaving.
        Binding("escape", "stay", show=False),
    ]

    def compose_face(self) -> ComposeResult:
        with Vertical(id="lock"):
            yield Static(LOCK_ICON, id="lock-icon")
            with VerticalScroll(id="lock-body"):
                yield Static("", id="lock-message")
                yield Static("", id="lock-details")
            with Horizontal(id="lock-actions"):
                yield Button("Emergency call", id="emergency", variant="error")
                yield Button("Wi-Fi", id="wifi")
                yield Button("Retry", id="retry")

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
        pending = "\n[cyan]Contacting the activation server…[/cyan]" if phone.pending else ""
        error = f"\n[red]{phone.last_error}[/red]" if phone.last_error else ""
        self.query_one("#lock-details", Static).update(
            f"[dim]Reason code[/dim] {phone.lock_reason or '—'}\n"
            f"[dim]IMEI[/dim] {phone.identity.imeis[0]}\n"
            f"[dim]Model[/dim] {phone.identity.model}{pending}{error}"
        )

    @on(Button.Pressed, "#emergency")
    def action_emergency(self) -> None:
        self.app.push_screen(DialerScreen(emergency_only=True))

    @on(Button.Pressed, "#wifi")
    def action_wifi(self) -> None:
        server = self.phone_app.current.client.base_url
        self.notify(f"Wi-Fi: connected (simulated). Activation server {server}", timeout=4)

    @on(Button.Pressed, "#retry")
    def action_retry(self) -> None:
        self.phone_app.request_activation()

    def action_stay(self) -> None:
        self.notify("This device is locked.", timeout=2)
