"""What every phone screen shares: the status bar on top, the phone's face, the footer."""

from __future__ import annotations

from contextlib import suppress
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.css.query import NoMatches
from textual.screen import Screen

from phone_sim.device.phone import Phone
from phone_sim.ui.widgets.footer import PhoneFooter
from phone_sim.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from phone_sim.ui.app import PhoneApp


@runtime_checkable
class ShowsPhone(Protocol):
    """A screen drawn from the phone in view (a face, the SIM tray, the inspector): the app
    refreshes each one on the stack when the phone changes. A protocol, so that the app need
    not import the screens a first frame does not show (``later.py``)."""

    def refresh_face(self) -> None: ...


class PhoneScreen(Screen[None]):
    """Base class: subclasses yield the face's widgets from ``compose_face``."""

    #: set by subclasses once mounted; refreshes before that have nothing to update
    ready = False
    #: a powered-off phone shows nothing, not even its status bar
    show_status = True

    @property
    def phone_app(self) -> PhoneApp:
        return cast("PhoneApp", self.app)

    @property
    def phone(self) -> Phone:
        return self.phone_app.phone

    def compose(self) -> ComposeResult:
        with Vertical(id="phone"):
            if self.show_status:
                yield StatusBar(self.phone, name=self.phone_app.phone_label)
            with Vertical(id="face"):
                yield from self.compose_face()
        yield PhoneFooter()

    def compose_face(self) -> ComposeResult:
        yield from ()

    @property
    def torn_down(self) -> bool:
        """Its widgets are going or gone: switched away, or the app shutting down, before its
        Mount was handled (seen under load). A Mount handler then has nothing to set up.

        Textual marks a screen and all its widgets as pruned at once, then removes them leaves
        first: a Mount in between finds ``#phone`` and not what is inside it.
        """
        return self._pruning or not self.query("#phone")

    def refresh_face(self) -> None:
        """Called when the phone changed; re-render what depends on it."""
        for bar in self.query(StatusBar):
            bar.refresh_status()
        if not self.ready:
            return
        with suppress(NoMatches):  # switched away before it finished mounting: nothing to render
            self.render_face()

    def render_face(self) -> None:
        """Update the face's widgets from the phone (subclasses)."""
