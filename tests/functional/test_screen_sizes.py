"""Every screen is usable at 80x24 (issue #15): every control can be reached, every key is shown.

For each place a person can be (tests/support/ui_states.py) the app runs at 80x24, and:

* each displayed button, input, list, select and table lies inside what the terminal shows,
  after the test scrolls to it as a user would (a long face scrolls; nothing is cut off);
* each input is wide enough to type in (the console's reason box was 4 columns wide);
* each key the screen offers with ``show=True`` is in the footer, inside the terminal, and no
  footer key is drawn over another (the palette's, docked on the right, included), nor by a
  toast; the others are listed in the keys panel (f1), whose own key is in the footer.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.errors import NoWidget
from textual.geometry import Region
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, DataTable, Input, OptionList, RadioButton, Select
from textual.widgets._footer import FooterKey
from textual.widgets._key_panel import BindingsTable
from textual.widgets._toast import Toast

from tests.support.one_phone import OnePhoneWorld
from tests.support.toasts import toast_problems
from tests.support.ui_states import STATES, in_state, wait_until

SMALL = (80, 24)
CONTROLS = (Button, Input, OptionList, Select, DataTable, RadioButton, Checkbox)
MIN_INPUT = 10


def shown(widget: Widget) -> bool:
    """Displayed, as are all its ancestors (a hidden step of a switcher is not a control)."""
    node: Widget | None = widget
    while isinstance(node, Widget) and not isinstance(node, Screen):
        if not node.display or (node is widget and not node.visible):
            return False
        node = node.parent  # type: ignore[assignment]
    return True


def action(name: str) -> str:
    """``app.toggle_keys`` and ``toggle_keys`` are the same action."""
    return name.removeprefix("app.").removeprefix("screen.")


def laid_out(screen: Screen[object]) -> bool:
    """The screen's last layout has placed its footer keys (a query finds a widget as soon as it
    is mounted, a layout later: CI once asked where a key was in between)."""
    try:
        for key in screen.query(FooterKey):
            screen.find_widget(key)
    except NoWidget:
        return False
    return True


def visible_part(screen: Screen[object], widget: Widget) -> tuple[Region, Region]:
    geometry = screen.find_widget(widget)
    return geometry.region, geometry.region.intersection(geometry.clip)


@pytest.mark.parametrize("name", sorted(STATES))
async def test_every_control_and_key_is_reachable_at_80x24(
    name: str, make_sim: Callable[..., OnePhoneWorld]
) -> None:
    async with in_state(name, make_sim, SMALL, notifications=True) as (app, pilot, _sim):
        if name != "palette":  # the command palette has no footer of its own
            await wait_until(pilot, lambda: bool(app.screen.query(FooterKey)))
        await wait_until(pilot, lambda: laid_out(app.screen))
        await pilot.pause(0.2)
        screen = app.screen
        whole = Region(0, 0, *SMALL)
        problems: list[str] = []
        controls = [w for w in screen.query("*") if isinstance(w, CONTROLS) and shown(w)]
        assert controls or name in ("off", "boot", "boot-unlocked"), f"{name}: no controls"
        for widget in controls:
            widget.scroll_visible(animate=False, immediate=True)
            await pilot.pause()
            region, seen = visible_part(screen, widget)
            label = f"{type(widget).__name__}#{widget.id}"
            if isinstance(widget, DataTable | OptionList):
                # A list or table scrolls itself: its box must be on screen, a few rows tall.
                if seen.height < min(3, region.height) or not whole.contains_region(seen):
                    problems.append(f"{label} shows {seen} of {region}")
            elif seen != region or not whole.contains_region(region) or region.area == 0:
                problems.append(f"{label} is cut off: {seen} of {region}")
            wide_enough = (
                min(MIN_INPUT, (widget.max_length or MIN_INPUT) + 1)
                if isinstance(widget, Input)
                else 0
            )
            if isinstance(widget, Input) and widget.content_region.width < wide_enough:
                problems.append(f"{label} is {widget.content_region.width} columns wide")
        footer_keys = {action(key.action): key for key in screen.query(FooterKey)}
        # What the screen (and the app) offer; a focused widget's own keys (an input's cursor
        # keys, a table's) are the widget's, and Textual's keys panel lists them under it.
        offered = [
            binding
            for node, binding, _, _ in screen.active_bindings.values()
            if not binding.system and (node is screen or node is app)
        ]
        if name == "palette":
            offered = []  # Textual's own palette: Esc leaves it, as its search box says
        for binding in offered:
            if not binding.show:
                continue
            key = footer_keys.get(action(binding.action))
            if key is None:
                problems.append(f"key {binding.key} ({binding.description}) not in the footer")
                continue
            region, seen = visible_part(screen, key)
            if seen != region or not whole.contains_region(region):
                problems.append(f"key {binding.key} ({binding.description}) is cut off: {seen}")
        placed = [(key, screen.find_widget(key).region) for key in screen.query(FooterKey)]
        for n, (key, region) in enumerate(placed):
            problems += [
                f"key {key.key_display} is drawn over by {other.key_display}"
                for other, other_region in placed[n + 1 :]
                if region.overlaps(other_region)
            ]
        if name != "palette":
            app.notify("A toast stays clear of the footer", timeout=60)
            await wait_until(pilot, lambda: bool(screen.query(Toast)))
            await pilot.pause(0.1)
            problems += toast_problems(app)
        assert not problems, f"{name} at 80x24:\n" + "\n".join(problems)
        # The rest are in the keys panel, which the footer's f1 opens.
        hidden = [b for b in offered if not b.show and b.description]
        if hidden and "toggle_keys" in footer_keys:
            await pilot.press("f1")
            await pilot.pause(0.1)
            table = app.screen.query_one(BindingsTable)
            keys = " ".join(str(cell) for cell in table.render_bindings_table().columns[0].cells)
            missing = [b.key for b in hidden if app.get_key_display(b) not in keys.split()]
            assert not missing, f"{name}: not in the keys panel: {missing}"
        else:
            assert not hidden, f"{name}: {hidden} are shown nowhere"
