"""The phone's status bar: its name (several phones), carrier and signal per slot, roaming, clock...

What it says comes from :mod:`phone_sim.device.status`, so headless scenarios read the same text.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from phone_sim.device.phone import Phone
from phone_sim.device.status import DEFAULT_BATTERY, status_segments


class StatusBar(Static):
    """Re-renders from the phone twice a second, so the simulated clock ticks."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
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

    def refresh_status(self) -> None:
        self.update(self.render_status())

    def render_status(self) -> Text:
        text = Text(no_wrap=True, overflow="ellipsis")
        if self.name_shown:
            text.append(f"{self.name_shown}  ", style="bold")
        for segment, style in status_segments(self.phone, battery=self.battery):
            text.append(segment, style=style)
        return text
