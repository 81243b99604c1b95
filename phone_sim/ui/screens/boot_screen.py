"""Boot: bootloader (with the unlocked-bootloader warning), vendor logo, then Android starting."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Vertical
from textual.widgets import ProgressBar, Static

from phone_sim.device.state import DeviceState

from .base import PhoneScreen

LOGO = """\
 ███╗   ███╗██╗██╗   ██╗██╗
 ████╗ ████║██║██║   ██║██║
 ██╔████╔██║██║██║   ██║██║
 ██║╚██╔╝██║██║██║   ██║██║
 ██║ ╚═╝ ██║██║╚██████╔╝██║
 ╚═╝     ╚═╝╚═╝ ╚═════╝ ╚═╝"""

UNLOCKED_WARNING = (
    "[b]The bootloader is unlocked[/b] and software integrity cannot be guaranteed.\n"
    "Your device and personal data may be at risk."
)


class BootScreen(PhoneScreen):
    CSS_PATH = "boot_screen.tcss"

    def compose_face(self) -> ComposeResult:
        with Vertical(id="boot"):
            yield Static("", id="phase")
            yield Static("", id="warning")
            yield Static(LOGO, id="logo")
            with Center():
                yield ProgressBar(
                    total=3, show_eta=False, show_percentage=False, id="boot-progress"
                )
            yield Static("", id="detail")

    def on_mount(self) -> None:
        if self.torn_down:
            return
        self.ready = True
        self._show_bootloader()

    def _show_bootloader(self) -> None:
        identity = self.phone.identity
        pace = self.phone_app.pace
        self.query_one("#logo").display = False
        self.query_one("#phase", Static).update(
            f"[b]Bootloader[/b]  {identity.model} ({identity.market})"
        )
        warning = self.query_one("#warning", Static)
        if identity.bootloader_unlocked:
            warning.update(UNLOCKED_WARNING)
            warning.add_class("shown")
            delay = pace.unlocked_warning
        else:
            warning.display = False
            delay = pace.bootloader
        self.query_one("#detail", Static).update(f"firmware {identity.firmware}")
        self.query_one(ProgressBar).advance(1)
        self.set_timer(delay, self._show_logo)

    def _show_logo(self) -> None:
        self.query_one("#warning").display = False
        self.query_one("#logo").display = True
        self.query_one("#phase", Static).update("")
        self.query_one(ProgressBar).advance(1)
        self.set_timer(self.phone_app.pace.logo, self._show_starting)

    def _show_starting(self) -> None:
        self.query_one("#detail", Static).update("Android is starting…")
        self.query_one(ProgressBar).advance(1)
        self.set_timer(self.phone_app.pace.starting, self._finish)

    def _finish(self) -> None:
        # The boot may have been interrupted (power off) while the timers ran.
        if self.phone.state is DeviceState.BOOTING:
            self.phone.finish_boot()
