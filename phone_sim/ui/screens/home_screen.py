"""The home screen of an activated phone: clock, warnings, apps, and what the phone knows about
itself.

The phone's warning stands under the date: its own (an offline lock ahead, an activation it
could not confirm) or the vendor's ahead of a lock. The vendor's notice may be dismissed
(*Dismiss*, ``d``) and is not shown again; its reminder, like the phone's own warnings, stays.
"""

from __future__ import annotations

import datetime as dt

from rich.markup import escape
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, VerticalScroll
from textual.widgets import Button, Digits, Static

from phone_sim.device.account import AccountState
from phone_sim.device.errors import PhoneError
from phone_sim.device.offline import PhoneWarning, WarningKind

from .base import PhoneScreen
from .dialer_screen import DialerScreen

#: how the home screen heads each kind of warning
HEADINGS = {
    WarningKind.LOCK_NOTICE: "📢 Notice",
    WarningKind.LOCK_REMINDER: "⚠ Reminder",
}


def warning_text(warning: PhoneWarning) -> str:
    """The warning as the home screen shows it: its heading, its text, the lock's date."""
    heading = HEADINGS.get(warning.kind, "⚠")
    when = ""
    if warning.kind in HEADINGS and warning.lock_at is not None:
        day = dt.datetime.fromtimestamp(warning.lock_at, tz=dt.UTC)
        when = f"\n[dim]Lock due {day.strftime('%d %b %Y %H:%M')} UTC[/dim]"
    return f"{heading} {escape(warning.text)}{when}"  # the vendor's text is not markup


class HomeScreen(PhoneScreen):
    CSS_PATH = "home_screen.tcss"
    BINDINGS = [
        Binding("d", "dismiss_notice", "Dismiss notice"),
        Binding("m", "app.account", "Mi Account"),
    ]

    def compose_face(self) -> ComposeResult:
        with VerticalScroll(id="home"):
            yield Digits("", id="clock")
            yield Static("", id="date")
            with Horizontal(id="warning-box"):
                yield Static("", id="warning", markup=True)
                yield Button("Dismiss", id="dismiss-notice", compact=True)
            with Grid(id="apps"):
                yield Button("📞 Phone", id="app-phone")
                yield Button("💳 SIM tray", id="app-sims")
                yield Button("🔎 Inspector", id="app-inspector")
                yield Button("🔄 Check in", id="app-recheck")
            yield Static("", id="about")

    def on_mount(self) -> None:
        self.ready = True
        self.refresh_face()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        now = dt.datetime.fromtimestamp(self.phone.clock.now(), tz=dt.UTC)
        self.query_one("#clock", Digits).update(now.strftime("%H:%M"))
        self.query_one("#date", Static).update(now.strftime("%A, %d %B %Y"))

    def render_face(self) -> None:
        self._tick()
        shown = self.phone.warning
        box = self.query_one("#warning-box", Horizontal)
        box.display = shown is not None
        box.set_class(shown is not None and shown.dismissible, "-notice")
        self.query_one("#dismiss-notice", Button).display = shown is not None and shown.dismissible
        self.query_one("#warning", Static).update("" if shown is None else warning_text(shown))
        self.refresh_bindings()
        ident = self.phone.identity
        self.query_one("#about", Static).update(
            f"[b]{ident.model}[/b] · {ident.market_name}\n"
            f"MIUI {ident.firmware}\nIMEI {' / '.join(ident.imeis)}\n"
            f"[green]Activated[/green] ({self.phone.lock_reason or 'ok'})\n"
            f"{_account_line(self.phone.account)}"
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "Dismiss notice" is offered (and in the footer) only while there is one to dismiss.
        if action == "dismiss_notice":
            return self.phone.warning is not None and self.phone.warning.dismissible
        return True

    @on(Button.Pressed, "#dismiss-notice")
    def action_dismiss_notice(self) -> None:
        app = self.phone_app
        try:
            self.phone.dismiss_notice()
        except PhoneError as exc:
            self.notify(str(exc), severity="warning", timeout=3)
            return
        if app.current is next(iter(app.world)):  # the recording follows the first phone
            app.recorder.record("dismiss_notice")
        self.refresh_face()

    @on(Button.Pressed, "#app-phone")
    def _open_dialer(self) -> None:
        self.app.push_screen(DialerScreen())

    @on(Button.Pressed, "#app-sims")
    def _open_sims(self) -> None:
        self.phone_app.action_sim_tray()

    @on(Button.Pressed, "#app-inspector")
    def _open_inspector(self) -> None:
        self.phone_app.action_inspector()

    @on(Button.Pressed, "#app-recheck")
    def _recheck(self) -> None:
        self.phone_app.request_activation()


def _account_line(account: AccountState) -> str:
    if account.hint is None:
        return "[dim]Mi Account: not signed in (m)[/dim]"
    find = "on" if account.find_device else "off"
    return f"Mi Account {account.signed_in or account.hint} · Find Device {find}"
