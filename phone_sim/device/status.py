"""The status bar's text, composed from the phone alone (no Textual), so that headless drivers
(scenarios, tests) see what the TUI's status bar shows.

:func:`status_segments` returns ``(text, style)`` pairs in Rich style syntax; the TUI can turn
them into a styled line, and :func:`status_text` joins them into plain text.
"""

from __future__ import annotations

import datetime as dt

from .events import SlotView
from .offline import PhoneWarning
from .phone import Phone

BARS = "▂▄▆█"
DEFAULT_BATTERY = 87

Segment = tuple[str, str]


def slot_segments(view: SlotView) -> list[Segment]:
    """One slot: ``1:Cubacel ▂▄▆█`` (plus `` R`` when roaming), or ``1:no SIM``."""
    segments: list[Segment] = [(f"{view.slot}:", "dim")]
    if view.sim is None:
        return [*segments, ("no SIM", "dim")]
    name = view.serving.name if view.serving is not None else view.sim.label
    segments += [(name, "bold" if view.serving is not None else "dim"), (" ", "")]
    segments += [(bar, "bold" if i < view.signal else "dim") for i, bar in enumerate(BARS)]
    if view.roaming:
        segments.append((" R", "bold yellow"))
    return segments


def status_segments(phone: Phone, *, battery: int = DEFAULT_BATTERY) -> list[Segment]:
    """Slots, airplane mode, simulated date and time, battery, vendor link, warning, clock speed."""
    segments: list[Segment] = []
    for view in phone.slots:
        segments += [*slot_segments(view), ("  ", "")]
    if phone.airplane:
        segments.append(("✈ ", "bold"))
    now = dt.datetime.fromtimestamp(phone.clock.now(), tz=dt.UTC)
    segments += [(now.strftime("%d %b %Y %H:%M"), "bold"), (f"  ▮{battery}%", "")]
    if phone.pending is not None:
        segments.append(("  ⇅", "bold cyan"))
    elif phone.schedule.failures:
        # Failed check-ins are shown quietly: a mark and when the phone tries again.
        retry = phone.schedule.next_at
        when = (
            "" if retry is None else dt.datetime.fromtimestamp(retry, tz=dt.UTC).strftime(" %H:%M")
        )
        segments.append((f"  ⚠{when}", "yellow"))
    if phone.warning is not None:
        segments.append((f"  {warning_label(phone.warning)}", "bold red"))
    speed = getattr(phone.clock, "speed", 1.0)
    if speed == 0:
        segments.append(("  ⏸", "dim"))  # time moves only when advanced
    elif speed != 1.0:
        segments.append((f"  ▶x{speed:g}", "dim"))
    return segments


def warning_label(warning: PhoneWarning) -> str:
    """The warning, short: ``⚠ locks 06 Sep 12:00`` or ``⚠ unconfirmed``."""
    if warning.lock_at is None:
        return "⚠ unconfirmed"
    when = dt.datetime.fromtimestamp(warning.lock_at, tz=dt.UTC).strftime("%d %b %H:%M")
    return f"⚠ locks {when}"


def status_text(phone: Phone, *, battery: int = DEFAULT_BATTERY) -> str:
    """The status bar as plain text, e.g. ``1:Cubacel ▂▄▆█  2:no SIM  01 Sep 2021 12:00  ▮87%``."""
    return "".join(text for text, _ in status_segments(phone, battery=battery))
