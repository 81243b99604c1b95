"""The vendor's console: the fleet the server knows, lock and release, the policy, the audit trail.

The fleet's *delivery* column says whether a lock or release has reached the phone: "lock
pending" until the phone's next contact, then "lock ✓ 04 Sep 12:00" (Knox Guard's Locking and
Locked), as ``vendor-server admin list`` does.

Version 2: each device's Mi Account (the ``account`` column: bound, or locked), ``x`` clears an
account lock (unbinds the device), ``c`` makes an unblock code (``UnblockCodeScreen``).

One person can play both sides: activate in Cuba on the phone, open this screen, advance three
days, watch the lock land, release, watch it lift. Everything here goes through the vendor's
admin HTTP API (never into the server's internals), in thread workers. A vendor without it (no
admin token, or a server that speaks only the protocol) gets a console that says so plainly,
with its controls off: the phone still talks to that vendor, by the protocol.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, ContentSwitcher, DataTable, Input, Static, Tab, Tabs

from phone_sim.protocol.imei import is_valid_imei
from phone_sim.ui.screens.unblock_code_screen import UnblockCodeScreen
from phone_sim.ui.widgets.audit_tail import AuditTail
from phone_sim.ui.widgets.console_rows import (
    AUDIT_COLUMNS,
    FLEET_COLUMNS,
    FleetTable,
    LiveTable,
    fleet_cells,
)
from phone_sim.ui.widgets.footer import PhoneFooter
from phone_sim.ui.widgets.status_bar import StatusBar
from server_stub.admin.client import AdminClient, AdminClientError, AdminHttpError
from server_stub.admin.models import AuditPage, DeviceView, PolicyView

POLL_SECONDS = 1.0
#: devices met last that the console lists beside the world's own phones and the selected row
#: (``GET /admin/fleet``, at most 1,000): a world of up to 1,000 devices is listed whole; reading a
#: fleet of 10,000 whole took 0.48 s of the server's CPU a poll
#: (docs/decisions/imei-lookups-outside-the-write-lock.md)
FLEET_PAGE = 1000
#: audit entries asked for at a time, and kept on screen (the oldest go first)
AUDIT_PAGE, AUDIT_KEPT = 200, 1000
AUDIT_TITLE = "Audit trail (live)"


def policy_title(version: str | None) -> str:
    """The policy tab's label: the version in force once known, and the key that shows it."""
    return "Policy in force (P)" if version is None else f"Policy in force {version} (P)"


class VendorConsoleScreen(Screen[None]):
    CSS_PATH = "vendor_console_screen.tcss"
    # Under 80 columns the reason box takes a row of its own above the buttons; under 24 rows
    # the fleet takes less of the height, so the audit trail's tab stays on screen.
    HORIZONTAL_BREAKPOINTS = [(0, "-cramped"), (80, "-roomy")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (24, "-tall")]
    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("v", "close", "Back to the phone", show=False),
        Binding("l", "lock", "Lock"),
        Binding("u", "release", "Release"),
        Binding("U", "release_all", "Release all"),
        # On buttons too; the footer has no room for them at 80 columns (f1 lists them).
        Binding("c", "unblock_code", "Unblock code", show=False),
        Binding("x", "clear_account", "Unbind account", show=False),
        Binding("a", "advance", "+3 days"),
        # The tabs' label says so; the footer has no room for it at 80 columns.
        Binding("P", "other_tab", "Audit trail / policy", show=False),
    ]

    @dataclass
    class Fetched(Message):
        """Fresh data from the admin API."""

        devices: list[DeviceView]
        #: devices and pending holds the vendor knows (None: it listed them all)
        total: int | None
        audit: AuditPage
        #: the audit page holds the newest entries (not those after the last shown)
        audit_newest: bool
        policy: PolicyView | None

    @dataclass
    class Failed(Message):
        """An admin call failed; ``text`` says why (``no_admin``: the vendor has no admin API)."""

        text: str
        no_admin: bool = False

    def __init__(self) -> None:
        super().__init__()
        self._audit = AuditTail(AUDIT_PAGE, AUDIT_KEPT)
        #: the vendor has no ``GET /admin/fleet`` (an older server): the whole list, then
        self._whole_list = False
        #: what the poll asks for by name: the world's phones and the selected row (read on the UI
        #: thread for the poll's)
        self._named: list[str] = []
        self._policy_version: str | None = None
        self._poll_timer: Timer | None = None
        #: the cursor was put on the phone in view (once: then it is the operator's)
        self._cursor_placed = False

    @property
    def admin(self) -> AdminClient | None:
        admin: AdminClient | None = self.app.world.admin  # type: ignore[attr-defined]
        return admin

    def compose(self) -> ComposeResult:
        yield StatusBar(self.app.phone)  # type: ignore[attr-defined]
        yield Static("[b]Fleet[/b]", classes="pane-title", id="fleet-title")
        yield FleetTable(id="fleet", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="actions"):
            yield Input(placeholder="reason, e.g. investigation", id="reason", compact=True)
            yield Button("Lock", id="lock", variant="error", compact=True)
            yield Button("Release", id="release", variant="success", compact=True)
            yield Button("Release all", id="release-all", compact=True)
            yield Button("Code", id="unblock-code-button", compact=True)
            yield Button("Unbind", id="unbind", compact=True)
        yield Static("", id="console-status")
        # The audit trail and the policy share the space under the fleet, one at a time: side
        # by side (the policy on the right) they left the fleet 76 of 120 columns, and stacked
        # 2 or 3 of its rows at 80x24. Tabs and a switcher of the screen's own, not a
        # TabbedContent: under load the console's Mount came before the TabbedContent had
        # mounted its panes (NoMatches '#audit').
        self._policy_tab = Tab(policy_title(None), id="policy-tab")
        yield Tabs(Tab(AUDIT_TITLE, id="audit-tab"), self._policy_tab, id="details-tabs")
        with ContentSwitcher(initial="audit", id="details"):
            yield LiveTable(id="audit", zebra_stripes=True)
            with VerticalScroll(id="policy-scroll"):
                yield Static("", id="policy", markup=False)
        yield PhoneFooter()

    def on_mount(self) -> None:
        fleet = self.query_one("#fleet", DataTable)
        # Fixed widths: measured ones came out at the labels' width when the first rows landed
        # before the table's first layout, cutting serials and reasons short.
        self._fleet_columns = [
            fleet.add_column(label, width=width) for label, width in FLEET_COLUMNS
        ]
        audit = self.query_one("#audit", DataTable)
        for label, width in AUDIT_COLUMNS:
            audit.add_column(label, width=width)
        if self.admin is None:
            self._no_admin(self.app.world.vendor.no_admin)  # type: ignore[attr-defined]
            return
        self._named = self._to_name()
        self.poll()
        self._poll_timer = self.set_interval(POLL_SECONDS, self.poll)
        fleet.focus()

    # --- data -----------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="console-poll")
    def poll(self) -> None:
        admin = self.admin
        if admin is None:
            return
        try:
            devices, total = self._devices(admin)
            tail = self._audit
            newest = tail.newest
            audit = admin.audit(after_id=None if newest else tail.after, limit=tail.page)
            policy = admin.policy() if self._policy_version is None else None
        except AdminHttpError as exc:  # shown on screen, never raised
            self.post_message(self.Failed(f"admin API: {exc}", no_admin=_no_such_path(exc)))
            return
        except AdminClientError as exc:
            self.post_message(self.Failed(f"admin API: {exc}"))
            return
        self.post_message(self.Fetched(devices, total, audit, newest, policy))

    def _devices(self, admin: AdminClient) -> tuple[list[DeviceView], int | None]:
        """The world's phones and the devices met last, and how many the vendor knows; or, from
        a vendor without ``GET /admin/fleet``, every device (and None)."""
        if not self._whole_list:
            try:
                page = admin.fleet(limit=FLEET_PAGE, idents=self._named)
                return page.devices, page.total
            except AdminHttpError as exc:
                if not _no_such_path(exc):
                    raise
                self._whole_list = True
        return admin.devices(), None

    def _to_name(self) -> list[str]:
        """The world's phones, and the selected row: a device the operator chose stays listed
        however many the vendor meets after it (an IMEI, a hold's, is not asked for by name:
        finding one reads every device's IMEIs)."""
        named = [p.phone.identity.serial for p in self.app.world]  # type: ignore[attr-defined]
        selected = self.selected_serial()
        if selected is not None and selected not in named and not is_valid_imei(selected):
            named.append(selected)
        return named

    @on(DataTable.RowHighlighted, "#fleet")
    def _chosen(self) -> None:
        self._named = self._to_name()

    def on_vendor_console_screen_fetched(self, message: Fetched) -> None:
        self._named = self._to_name()
        self._show_fleet(message.devices)
        self._title_fleet(len(message.devices), message.total)
        audit = self.query_one("#audit", DataTable)
        self._audit.show(audit, message.audit, newest=message.audit_newest)
        if message.policy is not None:
            self._policy_version = message.policy.version
            self._policy_tab.label = policy_title(message.policy.version)
            self.query_one("#policy", Static).update(message.policy.text)

    def _title_fleet(self, shown: int, total: int | None) -> None:
        title = "[b]Fleet[/b]"
        if total is not None and total > shown:
            title += (
                f"  {shown:,} of {total:,}: this world's phones, the holds and devices met last"
            )
        self.query_one("#fleet-title", Static).update(title)

    def _show_fleet(self, devices: list[DeviceView]) -> None:
        """Update the fleet in place: rebuilding it every poll threw away the operator's
        sideways scroll and the columns they had scrolled to (issue #15)."""
        fleet = self.query_one("#fleet", DataTable)
        shown = {str(key.value) for key in fleet.rows}
        selected = self.selected_serial()
        keys = []
        # With several phones in the world, each of its own is named in the row's label (the
        # vendor knows serials, the world names them).
        world = self.app.world  # type: ignore[attr-defined]
        names = {p.phone.identity.serial: p.name for p in world} if len(world.phones) > 1 else {}
        for row in devices:
            cells = fleet_cells(row)
            key = cells[0]  # the serial (or the IMEI a hold was placed on): the row's key
            keys.append(key)
            if key not in shown:
                fleet.add_row(*cells, key=key, label=names.get(key))
                continue
            for column, value in zip(self._fleet_columns, cells, strict=True):
                if fleet.get_cell(key, column) != value:
                    fleet.update_cell(key, column, value)
        for gone in shown - set(keys):
            fleet.remove_row(gone)
        if selected in keys and self.selected_serial() != selected:
            # Rows above it left the page: the cursor stays on the device, not on its row
            # number, or Lock would act on whichever device moved up into it.
            fleet.move_cursor(row=fleet.get_row_index(selected))
        in_view = self.app.phone.identity.serial  # type: ignore[attr-defined]
        if not self._cursor_placed and keys:
            # The console's actions take the selected row: it starts on the phone in view, not
            # on the first one the vendor lists; once, at the first rows shown, so a phone the
            # vendor learns of later never moves a row the operator chose.
            if in_view in keys:
                fleet.move_cursor(row=fleet.get_row_index(in_view))
            self._cursor_placed = True

    def on_vendor_console_screen_failed(self, message: Failed) -> None:
        if message.no_admin:
            self._no_admin(f"the vendor has no admin API ({message.text})")
            return
        self._status(f"[red]{message.text}[/red]")

    def _no_admin(self, why: str | None) -> None:
        """Say plainly that this console cannot act, and why; turn its controls off."""
        self.workers.cancel_group(self, "console-poll")
        if self._poll_timer is not None:
            self._poll_timer.stop()
        reason = why or "no admin token"
        self._status(f"[red]No admin access[/red] to this vendor: {escape(reason)}.")
        self.query_one("#policy", Static).update(
            "The fleet, the policy and the audit trail are the operator's, through the vendor's "
            "admin API, which this console cannot use. The phone still talks to the vendor "
            "by the protocol; time moves only as the vendor's does."
        )
        for control in self.query("#actions Button, #actions Input"):
            control.disabled = True

    def selected_serial(self) -> str | None:
        fleet = self.query_one("#fleet", DataTable)
        if fleet.row_count == 0:
            return None
        key = fleet.coordinate_to_cell_key(fleet.cursor_coordinate).row_key.value
        return None if key is None else str(key)

    def _status(self, text: str) -> None:
        self.query_one("#console-status", Static).update(text)

    def _reason(self, default: str) -> str:
        return self.query_one("#reason", Input).value.strip() or default

    # --- operator actions --------------------------------------------------------------------

    @work(thread=True, exit_on_error=False, group="console-act")
    def _act(self, label: str, call: Callable[[AdminClient], object]) -> None:
        admin = self.admin
        if admin is None:
            why = self.app.world.vendor.no_admin or "no admin token"  # type: ignore[attr-defined]
            self.post_message(self.Failed(f"{label}: no admin access to this vendor: {why}"))
            return
        try:
            call(admin)
        except AdminClientError as exc:  # shown on screen; the console never crashes the app
            self.post_message(self.Failed(f"{label} failed: {exc}"))
            return
        self.post_message(self.Done(label))

    @dataclass
    class Done(Message):
        """An operator action succeeded."""

        label: str

    def on_vendor_console_screen_done(self, message: Done) -> None:
        self._status(f"[green]{message.label}[/green] — it reaches the phone at its next check-in")
        self._policy_version = None
        self.poll()

    def _without_admin(self) -> bool:
        """True (and the console says why) when there is no admin API to act through."""
        if self.admin is not None:
            return False
        self._no_admin(self.app.world.vendor.no_admin)  # type: ignore[attr-defined]
        return True

    @on(Button.Pressed, "#lock")
    def action_lock(self) -> None:
        self._on_selected(
            "operator_lock", "lock", "investigation", lambda a, s, r: a.lock(s, reason=r)
        )

    @on(Button.Pressed, "#release")
    def action_release(self) -> None:
        self._on_selected(
            "operator_release", "release", "RELEASED", lambda a, s, r: a.release(s, reason=r)
        )

    def _on_selected(
        self,
        recorded: str,
        verb: str,
        default_reason: str,
        call: Callable[[AdminClient, str, str], object],
    ) -> None:
        """Lock or release the selected phone, with the reason typed (or ``default_reason``)."""
        if self._without_admin():
            return
        serial = self.selected_serial()
        if serial is None:
            self._status("no device selected")
            return
        reason = self._reason(default_reason)
        self._record(recorded, serial, reason=reason)
        self._act(f"{verb} {serial} ({reason})", lambda a: call(a, serial, reason))

    @on(Button.Pressed, "#release-all")
    def action_release_all(self) -> None:
        if self._without_admin():
            return
        reason = self._reason("RELEASED")
        self.app.recorder.record("operator_release_all", reason=reason)  # type: ignore[attr-defined]
        self._act(f"release all ({reason})", lambda a: a.release_all(reason=reason))

    @on(Button.Pressed, "#unblock-code-button")
    def action_unblock_code(self) -> None:
        serial, admin = self.selected_serial(), self.admin
        if serial is None or admin is None:
            self._status("no device selected")
            return
        self.app.push_screen(UnblockCodeScreen(serial, admin), callback=self._code_closed)

    def _code_closed(self, _: None) -> None:
        self.poll()  # the release the code stood for shows in the fleet and the audit trail

    @on(Button.Pressed, "#unbind")
    def action_clear_account(self) -> None:
        serial = self.selected_serial()
        if serial is None:
            self._status("no device selected")
            return
        reason = self._reason("account lock cleared by support")
        self._record("operator_clear_account", serial, reason=reason)
        self._act(
            f"account of {serial} cleared ({reason})",
            lambda a: a.clear_account(serial, reason=reason),
        )

    def _record(self, kind: str, serial: str, *, reason: str) -> None:
        # The recording follows the world's first phone: only actions on it can be replayed.
        first = next(iter(self.app.world))  # type: ignore[attr-defined]
        if serial == first.phone.identity.serial:
            self.app.recorder.record(kind, reason=reason)  # type: ignore[attr-defined]

    def action_advance(self) -> None:
        self.app.action_advance(3 * 86400)  # type: ignore[attr-defined]

    def action_other_tab(self) -> None:
        """Show the policy in force if the audit trail is shown, and the other way round."""
        tabs = self.query_one("#details-tabs", Tabs)
        tabs.active = "policy-tab" if tabs.active == "audit-tab" else "audit-tab"

    @on(Tabs.TabActivated, "#details-tabs")
    def _show_details(self, event: Tabs.TabActivated) -> None:
        shown = "audit" if event.tab.id == "audit-tab" else "policy-scroll"
        self.query_one("#details", ContentSwitcher).current = shown

    def action_close(self) -> None:
        self.dismiss()


def _no_such_path(exc: AdminHttpError) -> bool:
    """The vendor answered 404 for the path itself (it has no such route), not for a device."""
    return exc.status == 404 and exc.code == "not_found"
