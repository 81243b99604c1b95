"""The phone's status bar: its name (several phones), carrier and signal per slot, roaming, clock...

What it says comes from :mod:`phone_sim.device.status`, so headless scenarios read the same text.
When that is wider than the bar it goes on over more rows, broken between its items: the clock
and a warning are never cut off behind the name or two carriers.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from phone_sim.device.phone import Phone
from phone_sim.device.status import DEFAULT_BATTERY, status_segments

#: what separates the bar's items (slots, the clock, the battery, a warning...)
ITEM_GAP = "  "


class StatusBar(Static):
    """Re-renders from the phone twice a second, so the simulated clock ticks."""

    DEFAULT_CSS = """
    StatusBar { height: auto; background: $panel; color: $text; padding: 0 1; }
    """

    def __init__(
        self, phone: Phone, *, battery: int = DEFAULT_BATTERY, name: str | None = None
    ) -> None:
        super().__init__()
        self.phone = phone
        self.battery = battery
        #: the phone's name, shown first when the world has several
        self.name_shown = name

    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(0.5, self.refresh_status)

    def on_resize(self) -> None:
        self.refresh_status()

    def refresh_status(self) -> None:
        self.update(self.render_status())

    def render_status(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.name_shown:
            text.append(f"{self.name_shown}  ", style="bold")
        for segment, style in status_segments(self.phone, battery=self.battery):
            text.append(segment, style=style)
        return fold(text, self.content_region.width)


def fold(text: Text, width: int) -> Text:
    """``text`` over as many rows of ``width`` as it needs, broken only where its items meet
    (two spaces), so no item is split or cut off. Unchanged when it fits (or width is unknown).
    """
    if width <= 0 or text.cell_len <= width:
        return text
    rows: list[Text] = []
    for item in text.split(ITEM_GAP):
        if item.plain == "":
            continue
        if rows and rows[-1].cell_len + len(ITEM_GAP) + item.cell_len <= width:
            rows[-1].append(ITEM_GAP)
            rows[-1].append_text(item)
        else:
            rows.append(item)
    folded = Text("\n", no_wrap=True, overflow="ellipsis").join(rows)
    folded.no_wrap, folded.overflow = True, "ellipsis"
    return folded
