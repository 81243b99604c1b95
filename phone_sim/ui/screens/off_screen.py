"""A powered-off phone: a dark face and how to switch it on."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Static

from .base import PhoneScreen


class OffScreen(PhoneScreen):
    CSS_PATH = "off_screen.tcss"
    # A dark screen: no carrier, no signal bars, no clock (issue #15: it showed signal bars).
    show_status = False

    def compose_face(self) -> ComposeResult:
        yield Static("Powered off\n\npress [b]p[/b] to power on", id="off")

    def on_mount(self) -> None:
        self.ready = True
