"""The phone's status bar: carrier and signal per slot, roaming mark, clock, battery, vendor link."""

from __future__ import annotations

import datetime as dt

from rich.text import Text
from textual.widgets import Static

from phone_sim.device.phone import Phone, SlotView

BARS = "▂▄▆█"


def signal_text(view: SlotView) -> Text:
    text = Text()
    if view.sim is None:
        text.append(f"{view.slot}:", style="dim")
        text.append("no SIM", style="dim")
        return text
    text.append(f"{view.slot}:", style="dim")
    name = view.serving.name if view.serving is not None else view.sim.label
    text.append(name, style="bold" if view.serving is not None else "dim")
    text.append(" ")
    for i, bar in enumerate(BARS):
        text.append(bar, style="bold" if i < view.signal else "dim")
    if view.roaming:
        text.append(" R", style="bold yellow")
    return text


class StatusBar(Static):
    """Re-renders from the phone twice a second, so the simulated clock ticks."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $text; padding: 0 1; }
    """

    def __init__(self, phone: Phone, *, battery: int = 87) -> None:
        super().__init__()
        self.phone = phone
        self.battery = battery

    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(0.5, self.refresh_status)

    def refresh_status(self) -> None:
        self.update(self.render_status())

    def render_status(self) -> Text:
        phone = self.phone
        text = Text(no_wrap=True, overflow="ellipsis")
        for view in phone.slots:
            text.append_text(signal_text(view))
            text.append("  ")
        if phone.airplane:
            text.append("✈ ", style="bold")
        now = dt.datetime.fromtimestamp(phone.clock.now(), tz=dt.UTC)
        text.append(now.strftime("%d %b %Y %H:%M"), style="bold")
        text.append(f"  ▮{self.battery}%")
        if phone.pending is not None:
            text.append("  ⇅", style="bold cyan")
        elif phone.schedule.failures:
            # Failed check-ins are shown quietly: a mark and when the phone tries again.
            retry = phone.schedule.next_at
            when = (
                ""
                if retry is None
                else dt.datetime.fromtimestamp(retry, tz=dt.UTC).strftime(" %H:%M")
            )
            text.append(f"  ⚠{when}", style="yellow")
        speed = getattr(phone.clock, "speed", 1.0)
        if speed == 0:
            text.append("  ⏸", style="dim")  # time moves only when advanced
        elif speed != 1.0:
            text.append(f"  ▶x{speed:g}", style="dim")
        return text
