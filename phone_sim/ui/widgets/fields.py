"""Text fields whose moves to the next field keep up with typing.

Textual hands each key to the widget that has the focus when the key is dispatched. A move made
by a handler (``Input.Submitted``, or the screen's Tab binding) comes after the keys already
queued behind it, so a burst (a paste, a script, tmux's ``send-keys``) put the start of the
password into the name field ("alice@example.comcor"). A priority binding runs as its key is
dispatched, before the next key: :class:`NextFieldInput` moves on Enter that way, and the app's
Tab and Shift+Tab are priority bindings for the same reason (``PhoneApp.BINDINGS``).
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input


class NextFieldInput(Input):
    """An input whose Enter moves the focus to the next field at once."""

    BINDINGS = [Binding("enter", "next_field", "Next field", show=False, priority=True)]

    def action_next_field(self) -> None:
        self.screen.focus_next()
