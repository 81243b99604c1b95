"""The keys panel (f1) lists the phone's keys first: this screen's, then the app's everywhere.

A newcomer at 80x24 opened it on the setup screen and saw eleven cursor keys of the language
list, Textual's focus and copy keys and ``^q Quit`` before the SIM tray, the vendor console or
time, which were below the panel's last row. Now the focused widget's keys come after the
phone's, and the keys every Textual app has come last.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import HelpPanel
from textual.widgets._key_panel import BindingsTable

from phone_sim.ui.app import PhoneApp
from phone_sim.ui.widgets.keys_panel import PhoneHelpPanel
from tests.support.one_phone import OnePhoneWorld
from tests.support.ui_states import in_state, wait_until

SMALL = (80, 24)

#: the app's keys on every phone screen, as the panel shows them (one phone: no "Next phone")
EVERYWHERE = [
    ("t", "SIM tray"),
    ("v", "Vendor"),
    ("a", "+3 days"),
    ("r", "Reboot"),
    ("p", "Power"),
    ("i", "Inspector"),
    ("f1", "Keys"),
    ("^s", "Save scenario"),
]

#: each state's first rows: the screen's own keys, then (beneath a phone screen) the app's
FIRST_ROWS = {
    "setup-welcome": EVERYWHERE,  # the language list is focused: its cursor keys come after
    "lock": [
        ("e", "Emergency"),
        ("w", "Wi-Fi"),
        ("^r", "Retry"),
        ("c", "Code"),
        ("esc", "Stays locked"),
        *EVERYWHERE,
    ],
    "tray-roaming": [  # a dialog: its own keys only (the app's do not reach through it)
        ("esc", "Close"),
        ("1", "Slot 1"),
        ("2", "Slot 2"),
        ("x", "Remove"),
        ("s", "Swap"),
        ("n", "Network"),
        ("f1", "Keys"),
    ],
    "dialer": [("esc", "Close"), ("f1", "Keys")],  # before the number box's thirty keys
}


#: each state's last rows: the keys every Textual app has (focus, copy, quit, the palette)
TEXTUAL_LAST = [("^q", "Quit"), ("^p", "palette Open the command palette")]
LAST_ROWS = {
    "setup-welcome": TEXTUAL_LAST,
    "lock": TEXTUAL_LAST,
    "tray-roaming": [("shift+tab", "Focus Previous"), ("^c super+c", "Copy selected text")],
    "dialer": [("tab", "Focus Next"), ("shift+tab", "Focus Previous")],  # the box copies itself
}


def panel_rows(app: PhoneApp) -> list[tuple[str, str]]:
    """The keys panel's rows (key, description), its section titles left out."""
    table = app.screen.query_one(BindingsTable).render_bindings_table()
    keys, descriptions = (list(column.cells) for column in table.columns)
    return [(str(key), str(text)) for key, text in zip(keys, descriptions, strict=True) if key]


@pytest.mark.parametrize("name", sorted(FIRST_ROWS))
async def test_the_keys_panel_lists_the_phones_keys_first(
    name: str, make_sim: Callable[..., OnePhoneWorld]
) -> None:
    async with in_state(name, make_sim, SMALL) as (app, pilot, _sim):
        await pilot.press("f1")
        await wait_until(pilot, lambda: bool(app.screen.query(BindingsTable)))
        rows = panel_rows(app)
        first, last = FIRST_ROWS[name], LAST_ROWS[name]
        assert rows[: len(first)] == first, rows
        assert rows[-len(last) :] == last, rows
        # between them, the focused widget's keys: a list's cursor keys, a box's editing keys
        assert len(rows) > len(first) + len(last), rows


async def test_the_palettes_keys_command_opens_the_same_panel_and_f1_closes_it(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    async with in_state("home", make_sim, SMALL) as (app, pilot, _sim):
        app.action_show_help_panel()  # what the command palette's "Keys" runs
        await wait_until(pilot, lambda: bool(app.screen.query(BindingsTable)))
        assert isinstance(app.screen.query_one(HelpPanel), PhoneHelpPanel)
        assert panel_rows(app)[:2] == [("m", "Mi Account"), ("t", "SIM tray")]
        await pilot.press("f1")
        await wait_until(pilot, lambda: not app.screen.query(HelpPanel))
