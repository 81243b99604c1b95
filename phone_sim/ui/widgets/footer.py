"""The footer every screen shows: its keys on one row, or two when one row cannot hold them.

Textual's footer is one row that scrolls sideways: at 80 columns the lock screen's own keys
(`v`, `r`, `p`) fell off its end where no one would look for them (issue #15). This footer
counts the width its keys need and, when the terminal is narrower, lays them out on a grid of
two rows instead, so every key a screen offers stays in sight.
"""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


def key_width(key: FooterKey) -> int:
    """Columns one compact key takes: its key, a space, its description, and a gap."""
    return len(key.key_display) + (1 + len(key.description) if key.description else 0) + 1


class PhoneFooter(Footer):
    DEFAULT_CSS = """
    PhoneFooter.-two-rows {
        layout: grid;
        height: 2;
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
        needed = sum(key_width(key) for key in own) + palette
        two_rows = needed > self.app.size.width and len(own) > 1
        self.set_class(two_rows, "-two-rows")
        if two_rows:
            # Each column as wide as its widest key: Textual's "auto" columns cut descriptions.
            columns = math.ceil(len(own) / 2)
            widths = [
                max(key_width(key) for key in own[column::columns]) for column in range(columns)
            ]
            self.styles.grid_size_columns = columns
            self.styles.grid_columns = " ".join(str(width) for width in widths)
        yield from items

    def on_resize(self) -> None:
        self.call_after_refresh(self.recompose)
