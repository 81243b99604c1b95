"""The footer every screen shows: its keys on one row, or on as few rows as hold them.

Textual's footer is one row that scrolls sideways: at 80 columns the lock screen's own keys
(`v`, `r`, `p`) fell off its end where no one would look for them (issue #15). This footer
counts the width its keys need and, when it is narrower, lays them out on a grid of two rows,
or more, so every key a screen offers stays in sight, beside the palette's key docked on the
right (which covered the last column's key on a two-phone lock screen at 80 columns).

Toasts (``App.notify``) stand above it. Textual docks its toast rack at the bottom with a margin
of one row, made for a one-row footer: at 80x24 a toast hid the right of a wrapped footer's
first row for seconds. The footer sets the rack's margin to the rows it takes (1 to 3).
"""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.geometry import Spacing
from textual.widgets import Footer
from textual.widgets._footer import FooterKey
from textual.widgets._toast import ToastRack


def key_width(key: FooterKey) -> int:
    """Columns one compact key takes: its key, a space, its description, and a gap."""
    return len(key.key_display) + (1 + len(key.description) if key.description else 0) + 1


class PhoneFooter(Footer):
    DEFAULT_CSS = """
    PhoneFooter.-rows {
        layout: grid;
        grid-rows: 1;
        grid-columns: auto;
    }
    """

    def __init__(self) -> None:
        super().__init__(compact=True)

    def compose(self) -> ComposeResult:
        items = list(super().compose())
        keys = [item for item in items if isinstance(item, FooterKey)]
        own = [key for key in keys if not key.has_class("-command-palette")]
        palette = sum(key_width(key) + 1 for key in keys if key not in own)
        width = self.size.width or self.app.size.width  # the app's, before the first layout
        rows, widths = 1, [key_width(key) for key in own]
        while sum(widths) + palette > width and len(widths) > 1:
            rows += 1
            # Each column as wide as its widest key: Textual's "auto" columns cut descriptions.
            columns = math.ceil(len(own) / rows)
            widths = [max(key_width(key) for key in own[c::columns]) for c in range(columns)]
        self.set_class(rows > 1, "-rows")
        if rows > 1:
            self.styles.height = rows
            self.styles.grid_size_columns = len(widths)
            self.styles.grid_columns = " ".join(str(width) for width in widths)
        else:
            self.styles.clear_rule("height")
        yield from items

    def on_resize(self) -> None:
        self._lift_toasts()
        self.call_after_refresh(self.recompose)

    def _lift_toasts(self) -> None:
        """Put the screen's toasts just above this footer, however many rows it takes now."""
        try:
            rack = self.screen.get_child_by_type(ToastRack)
        except NoMatches:
            return  # an app without notifications has no rack
        rack.styles.margin = Spacing(0, 0, self.outer_size.height, 0)
