"""Toasts and the footer: whether a toast covers the keys at the bottom of the screen."""

from __future__ import annotations

from textual.app import App
from textual.widgets._toast import Toast

from phone_sim.ui.widgets.footer import PhoneFooter


def toast_problems(app: App[object]) -> list[str]:
    """Each toast on the screen in view that covers part of its footer."""
    screen = app.screen
    footer = screen.find_widget(screen.query_one(PhoneFooter)).region
    return [
        f"a toast at {region} covers the footer at {footer}"
        for region in (screen.find_widget(toast).region for toast in screen.query(Toast))
        if region.overlaps(footer)
    ]
