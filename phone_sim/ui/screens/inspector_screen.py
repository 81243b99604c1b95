"""The protocol inspector: every request and answer, with the signature check and the verdict."""

from __future__ import annotations

import datetime as dt
import json

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from phone_sim.device.exchange import Exchange
from phone_sim.device.phone import Phone
from phone_sim.ui.widgets.footer import PhoneFooter


def _shorten(value: object) -> object:
    # Certificates are kilobytes of base64; the inspector shows their size, not their bytes.
    if isinstance(value, str) and len(value) > 96:
        return f"{value[:40]}…({len(value)} chars)"
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    return value


def _pretty(body: bytes) -> str:
    try:
        return json.dumps(_shorten(json.loads(body)), indent=2, ensure_ascii=False)
    except ValueError:
        return body[:2000].decode(errors="replace")


def describe(exchange: Exchange) -> str:
    """Full text of one exchange: request, answer, signature check, verdict or error."""
    lines = [f"POST {exchange.url}  ({exchange.kind})"]
    lines += [f"{k}: {v}" for k, v in exchange.request_headers.items()]
    lines += ["", _pretty(exchange.request_body), "", f"── answer: HTTP {exchange.status or '—'}"]
    lines += [f"{k}: {v}" for k, v in exchange.response_headers.items()]
    lines += ["", _pretty(exchange.response_body) if exchange.response_body else "(no body)", ""]
    lines.append(f"signature check: {exchange.signature}")
    if exchange.error:
        lines.append(f"error [{exchange.error_code}]: {exchange.error}")
    return "\n".join(lines)


class InspectorScreen(ModalScreen[None]):
    CSS_PATH = "inspector_screen.tcss"
    #: set once composed; refreshes before that have nothing to update
    ready = False
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("i", "close", "Close", show=False),
        Binding("f1", "app.toggle_keys", "Keys"),
    ]

    @property
    def phone(self) -> Phone:
        return self.app.sim.phone  # type: ignore[attr-defined,no-any-return]

    def compose(self) -> ComposeResult:
        with Vertical(id="inspector"):
            yield Static("[b]Protocol inspector[/b]  Enter shows an exchange · Esc closes")
            yield DataTable(id="exchanges", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="exchange-scroll"):
                yield Static("", id="exchange-detail", markup=False)
        yield PhoneFooter()

    def on_mount(self) -> None:
        self.ready = True
        table = self.query_one(DataTable)
        table.add_columns("time", "kind", "HTTP", "signature", "result")
        self.refresh_face()
        table.focus()

    def refresh_face(self) -> None:
        if not self.ready:
            return
        table = self.query_one(DataTable)
        table.clear()
        for index, ex in enumerate(self.phone.exchanges):
            when = dt.datetime.fromtimestamp(ex.sent_at, tz=dt.UTC).strftime("%d %b %H:%M:%S")
            if ex.verdict is not None:
                result = f"{ex.verdict.status.value} {ex.verdict.reason} #{ex.verdict.sequence}"
            else:
                result = f"{ex.error_code}: {ex.error}"
            table.add_row(
                when, ex.kind, str(ex.status or "—"), ex.signature, result, key=str(index)
            )
        if self.phone.exchanges:
            table.move_cursor(row=len(self.phone.exchanges) - 1)
            self._show(len(self.phone.exchanges) - 1)
        else:
            self.query_one("#exchange-detail", Static).update("No exchanges yet.")

    def _show(self, index: int) -> None:
        self.query_one("#exchange-detail", Static).update(describe(self.phone.exchanges[index]))

    @on(DataTable.RowHighlighted)
    def _row(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self._show(int(event.row_key.value))

    def action_close(self) -> None:
        self.dismiss()
