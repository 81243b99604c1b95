"""The home screen of an activated phone: clock, apps, and what the phone knows about itself."""

from __future__ import annotations

import datetime as dt

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.widgets import Button, Digits, Static

from phone_sim.device.account import AccountState

from .base import PhoneScreen
from .dialer_screen import DialerScreen


class HomeScreen(PhoneScreen):
    CSS_PATH = "home_screen.tcss"
    BINDINGS = [Binding("m", "app.account", "Mi Account")]

    def compose_face(self) -> ComposeResult:
        with VerticalScroll(id="home"):
            yield Digits("", id="clock")
            yield Static("", id="date")
            yield Static("", id="warning")
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
        warning = self.query_one("#warning", Static)
        warning.update("" if self.phone.warning is None else f"⚠ {self.phone.warning.text}")
        warning.display = self.phone.warning is not None
        ident = self.phone.identity
        self.query_one("#about", Static).update(
            f"[b]{ident.model}[/b] · {ident.market_name}\n"
            f"MIUI {ident.firmware}\nIMEI {' / '.join(ident.imeis)}\n"
            f"[green]Activated[/green] ({self.phone.lock_reason or 'ok'})\n"
            f"{_account_line(self.phone.account)}"
        )

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
