"""What the app's concerns may use of one another, declared once for the type checker.

:class:`phone_sim.ui.app.PhoneApp` is a Textual ``App`` with mixins by concern
(``world_controls.py``, ``vendor_traffic.py``). Each subclasses :class:`AppParts`, which is a
``App[None]`` to the type checker (and declares what ``PhoneApp`` itself defines), so each module
type-checks alone; at run time it is a plain, empty class, and ``PhoneApp`` names ``App`` last
among its bases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

    from phone_sim.device.phone import Phone
    from phone_sim.ui.recorder import Recorder
    from phone_sim.ui.recovery_actions import RecoveryActions
    from phone_sim.world.phones import WorldPhone
    from phone_sim.world.world import World

    _AppBase = App[None]
else:
    _AppBase = object


class AppParts(_AppBase):
    """The app's state and its own methods, as the type checker sees them."""

    if TYPE_CHECKING:
        world: World
        current_name: str
        fast_forward_to: float | None
        recorder: Recorder
        recovery: RecoveryActions

        @property
        def current(self) -> WorldPhone: ...
        @property
        def phone(self) -> Phone: ...
        def _records(self, world_phone: WorldPhone) -> bool: ...
        def _watch(self, world_phone: WorldPhone) -> None: ...
        def sync_screen(self, *, switched: bool = False) -> None: ...
        def tick(self) -> None: ...
