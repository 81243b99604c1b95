"""The vendor console's fleet as tests read it: a cell by its column's label, not its place."""

from __future__ import annotations

from textual.widgets import DataTable

from phone_sim.ui.widgets.console_rows import FLEET_COLUMNS

COLUMN = {label: index for index, (label, _) in enumerate(FLEET_COLUMNS)}


def fleet_cell(fleet: DataTable[object], label: str, row: int = 0) -> object:
    """The cell of column ``label`` in ``row`` of the console's fleet."""
    return fleet.get_row_at(row)[COLUMN[label]]
