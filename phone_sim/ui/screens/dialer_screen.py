"""The dialer. From the lock screen it only places emergency calls, which it does."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from phone_sim.device.errors import PhoneError
from phone_sim.device.phone import Phone
from phone_sim.ui.widgets.footer import PhoneFooter


class DialerScreen(ModalScreen[None]):
    CSS_PATH = "dialer_screen.tcss"
    BINDINGS = [Binding("escape", "close", "Close"), Binding("f1", "app.toggle_keys", "Keys")]

    def __init__(self, *, emergency_only: bool = False) -> None:
        super().__init__()
        self.emergency_only = emergency_only

    @property
    def phone(self) -> Phone:
        return self.app.phone  # type: ignore[attr-defined,no-any-return]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialer"):
            title = "Emergency call" if self.emergency_only else "Phone"
            yield Static(f"[b]{title}[/b]", id="dialer-title")
            yield Input(placeholder="number, e.g. 112", id="number", restrict=r"[0-9*#+]*")
            with Horizontal(classes="quick"):
                yield Button("112", id="dial-112", variant="error")
                yield Button("911", id="dial-911", variant="error")
            with Horizontal(classes="quick"):
                yield Button("Call", id="call", variant="success")
                yield Button("Hang up", id="hangup")
                yield Button("Close", id="close")
            yield Static("", id="call-status")
        yield PhoneFooter()

    def on_mount(self) -> None:
        self.query_one("#number").focus()
        self._render_call()

    def _dial(self, number: str) -> None:
        try:
            result = self.phone.dial(number)
        except PhoneError as exc:
            self.query_one("#call-status", Static).update(f"[red]{exc}[/red]")
            return
        self.query_one("#call-status", Static).update(
            f"[green]{result.detail}…[/green]" if result.placed else f"[red]{result.detail}[/red]"
        )
        if result.placed:  # the call shows the number; what is typed next is a new number
            self.query_one("#number", Input).value = ""

    @on(Input.Submitted, "#number")
    @on(Button.Pressed, "#call")
    def _call_typed(self) -> None:
        self._dial(self.query_one("#number", Input).value)

    @on(Button.Pressed, "#dial-112")
    def _call_112(self) -> None:
        self._dial("112")

    @on(Button.Pressed, "#dial-911")
    def _call_911(self) -> None:
        self._dial("911")

    @on(Button.Pressed, "#hangup")
    def _hang_up(self) -> None:
        self.phone.hang_up()
        self._render_call()

    def _render_call(self) -> None:
        call = self.phone.active_call
        self.query_one("#call-status", Static).update(
            f"[green]In call with {call}[/green]" if call else "[dim]No call[/dim]"
        )

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.phone.hang_up()
        self.dismiss()
