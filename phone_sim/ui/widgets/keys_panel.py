"""The keys panel (``f1``): the phone's own keys first, then the focused widget's, then Textual's.

Textual's panel lists a screen's keys in its binding chain's order: the focused widget's first
(an option list's eleven cursor keys, an input's thirty), then Textual's focus and copy keys,
and the app's keys last, behind ``ctrl+q``. A newcomer at 80x24 saw only cursor keys and had to
scroll for the SIM tray, the vendor console or time. This panel lists the same keys in another
order: what this screen offers, then what the app offers everywhere (tray, console, time,
phones), then the focused widget's keys, then the keys every Textual app has (:class:`TextualKey`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from rich import box
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import HelpPanel, KeyPanel, Markdown
from textual.widgets._key_panel import BindingsTable


class TextualKey(StrEnum):
    """The actions of the keys every Textual app has, listed after the phone's own.

    The app declares some of them again (its own descriptions, or as priority keys), so they
    are told apart by what they do, not by where they are declared.
    """

    FOCUS_NEXT = "focus_next"
    FOCUS_PREVIOUS = "focus_previous"
    COPY_TEXT = "copy_text"
    QUIT = "quit"
    COMMAND_PALETTE = "command_palette"


_TEXTUAL_ACTIONS = frozenset(TextualKey)


def _is_textual_key(binding: Binding) -> bool:
    return binding.action.removeprefix("app.").removeprefix("screen.") in _TEXTUAL_ACTIONS


@dataclass(frozen=True)
class KeyGroup:
    """One section of the panel: its keys, and the title Textual gives a widget's ("Input")."""

    keys: list[ActiveBinding]
    title: str | None = None


def key_groups(screen: Screen[object]) -> list[KeyGroup]:
    """The screen's active keys in the panel's order, one group per section (none empty).

    The screen's own keys, then the app's, then each focused widget's (the widget first, its
    containers after, as Textual lists them), then Textual's; keys the panel never shows
    (``system``) are left out.
    """
    own: list[ActiveBinding] = []
    everywhere: list[ActiveBinding] = []
    widgets: dict[DOMNode, list[ActiveBinding]] = {}
    textual: list[ActiveBinding] = []
    for active in screen.active_bindings.values():
        if active.binding.system:
            continue
        if _is_textual_key(active.binding):
            textual.append(active)
        elif active.node is screen:
            own.append(active)
        elif active.node is screen.app:
            everywhere.append(active)
        else:
            widgets.setdefault(active.node, []).append(active)
    groups = [
        KeyGroup(own),
        KeyGroup(everywhere),
        *(KeyGroup(keys, node.BINDING_GROUP_TITLE) for node, keys in widgets.items()),
        KeyGroup(textual),
    ]
    return [group for group in groups if group.keys]


class PhoneBindingsTable(BindingsTable):
    """Textual's bindings table, in :func:`key_groups`' order."""

    def render_bindings_table(self) -> Table:
        key_style = self.get_component_rich_style("bindings-table--key")
        description_style = self.get_component_rich_style("bindings-table--description")
        header_style = self.get_component_rich_style("bindings-table--header")
        transparent = self.get_component_styles("bindings-table--divider").color.a == 0
        table = Table(
            padding=(0, 0),
            show_header=False,
            box=box.SIMPLE if transparent else box.HORIZONTALS,
            border_style=self.get_component_rich_style("bindings-table--divider"),
        )
        table.add_column("", justify="right")
        for group in key_groups(self.screen):
            if group.title:
                table.add_row("", Text(group.title, style=header_style, end=""))
            for keys, binding in self._rows(group.keys):
                description = Text.from_markup(binding.description, style=description_style, end="")
                if binding.tooltip:
                    description.append(f" {binding.tooltip}", "dim")
                table.add_row(Text(keys, style=key_style), description)
            table.add_section()
        return table

    def _rows(self, keys: list[ActiveBinding]) -> Iterator[tuple[str, Binding]]:
        """One row per action of a node, its keys together (``esc i`` Close), as Textual does."""
        by_action: dict[tuple[int, str], list[Binding]] = {}
        for active in keys:
            by_action.setdefault((id(active.node), active.binding.action), []).append(
                active.binding
            )
        for bindings in by_action.values():
            shown = dict.fromkeys(self.app.get_key_display(binding) for binding in bindings)
            yield " ".join(shown), bindings[0]


class PhoneKeyPanel(KeyPanel):
    """Textual's key panel with :class:`PhoneBindingsTable`."""

    def compose(self) -> ComposeResult:
        yield PhoneBindingsTable(shrink=True, expand=False)


class PhoneHelpPanel(HelpPanel):
    """Textual's help panel (the focused widget's help, then its keys) with the phone's order."""

    def compose(self) -> ComposeResult:
        yield Markdown(id="widget-help")
        yield PhoneKeyPanel(id="keys-help")
