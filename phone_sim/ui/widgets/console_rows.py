"""What the vendor console's two tables show: their columns, and a row's cells for each.

Kept beside each other so a column and its cell cannot drift apart (the fleet's order was
changed for the 80-column terminal: what the story turns on first). ``LiveTable`` is the audit
trail's table, which keeps its newest entry in sight; ``FleetTable`` the fleet's, which draws its
rows again once it knows they carry the phones' names.
"""

from __future__ import annotations

import datetime as dt

from textual import events
from textual.widgets import DataTable

from server_stub.admin.models import AuditEntry, DeliveryView, DeviceView


class LiveTable(DataTable[str]):
    """A table whose cursor, while on its last row, stays in sight when the table shrinks.

    The console's first rows land before its footer takes its second row: the audit trail lost
    a row under its newest entry, the one README's story reads (``embargo:activation:home``).
    """

    def on_resize(self) -> None:
        if self.row_count and self.cursor_row == self.row_count - 1:
            self.call_after_refresh(self.move_cursor, row=self.cursor_row)


class FleetTable(DataTable[str]):
    """A table that draws its rows again when its first row label arrives.

    DataTable learns that its rows have labels when it measures them, once its messages are
    handled (``_on_idle``); lines drawn before that, without the label column, stayed in its
    caches: the phones' names and the header's first column were missing, everything shifted
    left, until the cursor moved (seen in tmux about one open in three, and once in a snapshot
    under load). Private names of Textual 8.2 (constraints.txt pins it); the console's
    snapshots with names fail if they change.
    """

    async def _on_idle(self, event: events.Idle) -> None:
        labelled = self._labelled_row_exists
        await super()._on_idle(event)
        if self._labelled_row_exists and not labelled:
            self._clear_caches()
            self.refresh()


#: the audit trail's columns and their widths
AUDIT_COLUMNS = (
    ("#", 6),  # up to 999,999: a fleet of 10,000 writes 20,000 entries
    ("time", 12),
    ("device", 15),
    ("action", 14),
    ("rule", 26),
    ("policy", 20),
    ("verdict", 30),
)
#: the fleet's columns and their widths, what the story turns on first: at 80 columns the
#: serial, state, delivery, territory and lock due are in sight without scrolling sideways
FLEET_COLUMNS = (
    ("serial", 15),
    ("state", 9),
    ("delivery", 22),
    ("territory", 10),
    ("lock due", 12),
    ("reason", 20),
    ("last contact", 12),
    ("account", 7),
    ("model", 14),
    ("market", 6),
)


def when(value: object) -> str:
    """A time of the server's clock as the tables show it, ``04 Sep 12:00``; ``—`` for none."""
    if not isinstance(value, int | float):
        return "—"
    return dt.datetime.fromtimestamp(value, tz=dt.UTC).strftime("%d %b %H:%M")


def delivery_cell(delivery: DeliveryView | None) -> str:
    """``lock pending``, ``release ✓ 06 Sep 12:00`` (delivered then), or nothing."""
    if delivery is None:
        return ""
    if delivery.state == "pending":
        return f"{delivery.kind} pending"
    return f"{delivery.kind} ✓ {when(delivery.delivered_at)}"


def fleet_cells(row: DeviceView) -> tuple[str, ...]:
    """A device's cells, in the order of :data:`FLEET_COLUMNS`."""
    account = "" if row.account is None else ("locked" if row.account.locked else "bound")
    return (
        # A hold placed on an IMEI the server has not seen yet has no serial.
        row.serial or (row.imeis[0] if row.imeis else "?"),
        row.state,
        delivery_cell(row.delivery),
        row.activation_territory or "",
        when(row.lock_due_at),
        row.reason or "",
        when(row.last_contact),
        account,
        row.model or "",
        row.market or "",
    )


def audit_cells(entry: AuditEntry) -> tuple[str, ...]:
    """An audit entry's cells, in the order of :data:`AUDIT_COLUMNS`."""
    return (
        str(entry.id),
        when(entry.at),
        entry.serial or entry.imei or "",
        entry.kind,
        entry.rule,
        entry.policy_version,
        f"{entry.status or ''} {entry.reason or ''}".strip(),
    )
