"""The footer every screen shows: its keys on one row, or on as few rows as hold them.

Textual's footer is one row that scrolls sideways: at 80 columns the lock screen's own keys
(`v`, `r`, `p`) fell off its end where no one would look for them (issue #15). This footer
counts the width its keys need and, when it is narrower, lays them out on a grid of two rows,
or more, so every key a screen offers stays in sight, beside the palette's key docked on the
right (which covered the last column's key on a two-phone lock screen at 80 columns).

Toasts (``App.notify``) stand above it. Textual docks its toast rack at the bottom with a margin
of one row, made for a one-row footer: at 80x24 a toast hid the right of a wrapped footer's
first row for seconds. The footer sets the rack's margin to the rows it takes (1 to 3, and its
size hint's).

Every screen is laid out for a terminal of at least 80x24 (README). In a smaller one the footer
says so on a row above its keys, ``window is 60x20; the phone needs at least 80x24``, instead of
leaving a cut face unexplained; every key still works, the lock screen's too (it still covers
the phone).
"""

from __future__ import annotations

import math

from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.geometry import Spacing
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.widgets._footer import FooterKey
from textual.widgets._toast import ToastRack

#: the smallest terminal every screen is laid out for (README: every screen works in an 80x24
#: terminal)
MIN_WIDTH, MIN_HEIGHT = 80, 24


def size_hint(width: int, height: int) -> str | None:
    """What the footer says in a terminal smaller than every screen is laid out for; None when
    the terminal is large enough."""
    if width >= MIN_WIDTH and height >= MIN_HEIGHT:
        return None
    return f"window is {width}x{height}; the phone needs at least {MIN_WIDTH}x{MIN_HEIGHT}"


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
    PhoneFooter #size-hint {
        dock: top;
        width: 100%;
        height: auto;
        padding: 0 1;
        background: $warning-muted;
        color: $text;
        text-style: bold;
    }
    """

    def __init__(self) -> None:
        super().__init__(compact=True)
        #: the hint shown above the keys (None: the terminal is large enough)
        self._hint: str | None = None

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
        self._hint = size_hint(*self.app.size)
        hint_rows = 0
        if self._hint is not None:
            # Beside the palette's key (its width, without the gap the grid keeps from it),
            # which sits on the footer's first row; the hint's padding is the 2.
            beside = width - sum(key_width(key) for key in keys if key not in own)
            hint_rows = math.ceil((len(self._hint) + 2) / max(beside, 1))
        self.set_class(rows > 1, "-rows")
        if rows > 1:
            self.styles.grid_size_columns = len(widths)
            self.styles.grid_columns = " ".join(str(width) for width in widths)
        if rows + hint_rows > 1:
            self.styles.height = rows + hint_rows
        else:
            self.styles.clear_rule("height")
        if self._hint is not None:
            yield Static(self._hint, id="size-hint", markup=False)
        yield from items

    def on_mount(self) -> None:
        # The terminal's height can change without the footer's width: the screen's layout
        # tells (a resize lays it out again).
        self.screen.screen_layout_refresh_signal.subscribe(self, self._laid_out)

    def on_unmount(self) -> None:
        self.screen.screen_layout_refresh_signal.unsubscribe(self)

    def _laid_out(self, _: Screen[object]) -> None:
        if size_hint(*self.app.size) != self._hint:
            self.call_after_refresh(self.recompose)

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
