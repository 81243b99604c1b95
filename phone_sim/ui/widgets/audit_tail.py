"""The vendor console's live audit trail: what it asks for next, and the rows it keeps.

It starts at the newest entries, not the first (a fleet of 10,000 writes 20,000), follows the
entries after the last shown, jumps to the newest when a fleet writes faster than a poll reads
(a row says how many it skipped), and keeps at most ``kept`` rows, the oldest going first.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from textual.widgets import DataTable
from textual.widgets.data_table import RowKey

from server_stub.admin.models import AuditPage

from .console_rows import audit_cells


@dataclass
class AuditTail:
    """One console's place in the audit log. ``page``: entries asked for at a time."""

    page: int = 200
    kept: int = 1000
    #: the last entry shown
    after: int = 0
    #: the next read takes the newest entries, not those after the last shown: at first, and
    #: when the tail fell a page behind
    newest: bool = True
    _rows: deque[RowKey] = field(default_factory=deque)

    def show(self, table: DataTable[str], page: AuditPage, *, newest: bool) -> None:
        """Add ``page``'s entries not shown yet (``newest``: it was a read of the newest)."""
        # Polls overlap (the timer's and the one after an action): two answers can carry the
        # same page. Entries already shown are skipped, so each appears once (issue #15).
        fresh = [entry for entry in page.entries if entry.id > self.after]
        if fresh and self._rows and fresh[0].id > self.after + 1:
            skipped = f"{fresh[0].id - self.after - 1:,} entries"
            self._rows.append(
                table.add_row("…", "", skipped, "not shown:", "`admin audit` has them", "", "")
            )
        for entry in fresh:
            self.after = max(self.after, entry.id)
            self._rows.append(table.add_row(*audit_cells(entry)))
        while len(self._rows) > self.kept:
            table.remove_row(self._rows.popleft())
        # A full page after the last shown: more may wait than a poll reads (a fleet writes
        # hundreds a second), so the next read jumps to the newest. After the newest, the tail.
        self.newest = not newest and len(page.entries) >= self.page
        if fresh:
            table.move_cursor(row=table.row_count - 1)
