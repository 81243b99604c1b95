"""Lists whose Up and Down stop at their ends: the setup's languages, the SIM tray's carriers and
its serving-network menu.

Textual's ``OptionList`` (and the ``Select`` menu built on it) wraps: Up on the first row goes
to the last. Its ``DataTable`` and ``ListView`` stop, as the vendor console's and the
inspector's tables here do, and as a phone's lists do. In the SIM tray the wrap surprised: on an
empty slot the tray opens on Telekom, the first carrier, and Up then Enter inserted AT&T (USA),
the last, 23 rows away and out of sight; in its menu, Up on "home network" chose roaming on
AT&T. Every list of the app now stops at its ends; Home and End still jump to them.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import OptionList, Select
from textual.widgets._select import SelectCurrent, SelectOverlay


def step(options: OptionList, direction: int) -> None:
    """Move the highlight one enabled option up (-1) or down (1), staying put at an end."""
    if options.highlighted is None:
        # Nothing highlighted yet: Textual's own first step (the first or the last option).
        if direction < 0:
            OptionList.action_cursor_up(options)
        else:
            OptionList.action_cursor_down(options)
        return
    end = -1 if direction < 0 else options.option_count
    for index in range(options.highlighted + direction, end, direction):
        if not options.get_option_at_index(index).disabled:
            options.highlighted = index
            return


class ChoiceList(OptionList):
    """An ``OptionList`` whose Up and Down stop at its first and last options."""

    def action_cursor_up(self) -> None:
        step(self, -1)

    def action_cursor_down(self) -> None:
        step(self, 1)


class _ChoiceMenu(SelectOverlay):
    """The menu of :class:`ChoiceSelect`: a ``SelectOverlay`` (Select's styles name that type)
    whose Up and Down stop at its ends."""

    def action_cursor_up(self) -> None:
        step(self, -1)

    def action_cursor_down(self) -> None:
        step(self, 1)


class ChoiceSelect(Select[str]):
    """A ``Select`` whose menu stops at its ends, as :class:`ChoiceList` does."""

    def compose(self) -> ComposeResult:
        # Select.compose with the menu swapped (textual 8.2, pinned in constraints.txt);
        # tests/functional/test_lists_stop_at_their_ends.py fails if the menu is Textual's again.
        yield SelectCurrent(self.prompt)
        yield _ChoiceMenu(type_to_search=self._type_to_search).data_bind(compact=Select.compact)
