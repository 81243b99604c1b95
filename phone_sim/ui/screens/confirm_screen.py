"""A yes/no question before something that cannot be undone (a factory reset)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from phone_sim.ui.widgets.footer import PhoneFooter


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True only when the user presses the confirming button (or ``y``)."""

    CSS_PATH = "confirm_screen.tcss"
    BINDINGS = [
        Binding("escape,n", "answer(False)", "Cancel"),
        Binding("y", "answer(True)", "Yes"),
        Binding("f1", "app.toggle_keys", "Keys"),
    ]

    def __init__(self, title: str, text: str, *, confirm: str = "Yes") -> None:
        super().__init__()
        self.title_text = title
        self.text = text
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm"):
            yield Static(f"[b]{self.title_text}[/b]", id="confirm-title")
            yield Static(self.text, id="confirm-text")
            with Horizontal(id="confirm-buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button(self.confirm, id="yes", variant="error")
        yield PhoneFooter()

    def on_mount(self) -> None:
        # The safe answer has the focus: Enter alone never erases anything.
        self.query_one("#cancel").focus()

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(False)

    @on(Button.Pressed, "#yes")
    def _yes(self) -> None:
        self.dismiss(True)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
