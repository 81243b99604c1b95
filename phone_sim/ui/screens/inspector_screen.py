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
from phone_sim.device.sims import network_for
from phone_sim.protocol.clock import ClockMode
from phone_sim.protocol.contact import ContactKind
from phone_sim.protocol.timesync import TimeAnswer
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


def _asked(exchange: Exchange) -> str:
    """What the phone asked, in words: ``asked to be activated with a Cubacel SIM (368-01)``."""
    if exchange.kind is ContactKind.TIME:
        return "The phone asked the vendor's time"  # a time request carries no SIMs
    verb = "asked to be activated" if exchange.kind is ContactKind.ACTIVATION else "checked in"
    try:
        sims = json.loads(exchange.request_body).get("sims") or []
    except (ValueError, AttributeError):
        sims = []
    cards = []
    for sim in sims:
        home = f"{sim.get('home_mcc')}-{sim.get('home_mnc')}"
        name = network_for(str(sim.get("home_mcc")), str(sim.get("home_mnc"))).name
        card = f"a {name} SIM ({home})" if name != home else f"a SIM of {home}"
        if sim.get("roaming"):
            card += f" roaming on {sim.get('serving_mcc')}-{sim.get('serving_mnc')}"
        cards.append(card)
    return f"The phone {verb} " + (f"with {' and '.join(cards)}" if cards else "with no SIM")


def summary(exchange: Exchange) -> str:
    """One line of plain words: what was asked, what was answered, and why it was taken or not."""
    asked = _asked(exchange)
    if exchange.time is not None:
        told = f"the vendor answered {_time(exchange.time)}"
        return f"{asked}; {told}; accepted: the vendor's signature on it is valid."
    if exchange.verdict is not None:
        verdict = exchange.verdict
        told = f"the vendor answered {verdict.status.value.upper()} ({verdict.reason})"
        why = "accepted: the vendor's signature on it is valid"
        if exchange.error:
            why = f"not taken: {exchange.error}"
        return f"{asked}; {told}; {why}."
    if exchange.status is None:
        return f"{asked}; no answer came ({exchange.error or 'no connection'})."
    reasons = {
        "invalid": "refused: its signature does not match, so it was changed on the way or "
        "not signed by the vendor",
        "missing": "refused: it carries no vendor signature",
    }
    why = reasons.get(exchange.signature, f"refused: {exchange.error or 'not a verdict'}")
    return f"{asked}; the server answered HTTP {exchange.status}; {why}."


def _time(answer: TimeAnswer) -> str:
    """The vendor's signed time in words: ``04 Sep 2021 12:01:12 UTC (simulated, x60)``."""
    when = dt.datetime.fromtimestamp(answer.now, tz=dt.UTC).strftime("%d %b %Y %H:%M:%S UTC")
    if answer.mode is ClockMode.REAL:
        return f"{when} (real time)"
    return f"{when} (simulated, {f'x{answer.speed}' if answer.speed else 'stopped'})"


def _result(exchange: Exchange) -> str:
    """The table's result column: the verdict, the vendor's time, or what went wrong."""
    if exchange.verdict is not None:
        verdict = exchange.verdict
        return f"{verdict.status.value} {verdict.reason} #{verdict.sequence}"
    if exchange.time is not None:
        return _time(exchange.time)
    return f"{exchange.error_code or 'error'}: {exchange.error or 'no answer'}"


def describe(exchange: Exchange) -> str:
    """Full text of one exchange: a plain summary, request, answer, signature check, verdict."""
    lines = [summary(exchange), "", f"POST {exchange.url}  ({exchange.kind})"]
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
        return self.app.phone  # type: ignore[attr-defined,no-any-return]

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
            result = _result(ex)
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
