"""The screens a first frame does not show, imported the first time one is asked for.

The phone's faces (``base.py`` and the ``*_screen.py`` that ``PhoneApp.SCREEN_CLASSES`` maps)
load with the app. The world's controls and the dialogs load when first pushed: the vendor
console alone brings the admin client, its pydantic models and ``requests`` (and the
unblock code screen it opens), none of which the
first frame needs (``docs/decisions/tui-first-frame-imports.md``).

Each :class:`Later` names one screen class: calling it imports the class; :meth:`Later.holds`
asks whether a screen is one without importing it (a class never imported has no instance).
``tests/unit/test_later_screens.py`` imports every one, so a misspelt name fails there.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from textual.screen import Screen

if TYPE_CHECKING:
    from .account_screen import AccountScreen
    from .confirm_screen import ConfirmScreen
    from .inspector_screen import InspectorScreen
    from .sim_tray_screen import SimTrayScreen
    from .vendor_console_screen import VendorConsoleScreen

S = TypeVar("S", bound=Screen[Any], covariant=True)


class Later(Generic[S]):
    """A screen class in ``module``, imported when first called for."""

    def __init__(self, module: str, name: str) -> None:
        self.module = f"{__package__}.{module}"
        self.name = name

    def __call__(self) -> type[S]:
        cls: type[S] = getattr(importlib.import_module(self.module), self.name)
        return cls

    def holds(self, screen: object) -> bool:
        """Whether ``screen`` is one of these screens (never imports the class)."""
        module = sys.modules.get(self.module)
        return module is not None and isinstance(screen, getattr(module, self.name))


SIM_TRAY: Later[SimTrayScreen] = Later("sim_tray_screen", "SimTrayScreen")
VENDOR_CONSOLE: Later[VendorConsoleScreen] = Later("vendor_console_screen", "VendorConsoleScreen")
INSPECTOR: Later[InspectorScreen] = Later("inspector_screen", "InspectorScreen")
CONFIRM: Later[ConfirmScreen] = Later("confirm_screen", "ConfirmScreen")
ACCOUNT: Later[AccountScreen] = Later("account_screen", "AccountScreen")

#: every screen of this module, for the test that imports them all
ALL: tuple[Later[Screen[Any]], ...] = (SIM_TRAY, VENDOR_CONSOLE, INSPECTOR, CONFIRM, ACCOUNT)
