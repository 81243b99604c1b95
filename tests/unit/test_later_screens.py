"""The screens the app imports when first pushed (``phone_sim/ui/screens/later.py``)."""

from __future__ import annotations

import subprocess
import sys

from textual.screen import Screen

from phone_sim.ui.screens import later


def test_each_later_screen_names_a_screen_class() -> None:
    # A misspelt module or class would otherwise fail only when a user first opens the screen.
    for screen in later.ALL:
        cls = screen()
        assert issubclass(cls, Screen) and cls.__name__ == screen.name


def test_holds_knows_its_screens_and_imports_none() -> None:
    code = (
        "import sys\n"
        "from phone_sim.ui.screens.later import ALL, VENDOR_CONSOLE\n"
        "assert not any(s.holds(object()) for s in ALL)\n"
        "print(sorted(m for m in sys.modules if m.endswith('_screen')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "vendor_console_screen" not in result.stdout
    assert "sim_tray_screen" not in result.stdout
    confirm = later.CONFIRM()("Sure?", "Really?", confirm="Yes")
    assert later.CONFIRM.holds(confirm)
    assert not later.SIM_TRAY.holds(confirm)
