"""The SIM tray: insert, remove and swap SIM cards in either slot, at any time, even when locked,
and choose the network each SIM serves on: its home network, or roaming on another (a tourist).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, RadioButton, RadioSet, Select, Static
from textual.widgets.option_list import Option

from phone_sim.device.errors import PhoneError
from phone_sim.device.events import SlotView
from phone_sim.device.phone import Phone
from phone_sim.device.sims import CARRIERS, Sim, carrier
from phone_sim.ui.recorder import Recorder
from phone_sim.ui.widgets.footer import PhoneFooter
from phone_sim.ui.widgets.lists import ChoiceList, ChoiceSelect

#: the serving-network choice that means "no roaming"
HOME = "home"


def slot_line(view: SlotView) -> str:
    """``Slot 1: Telekom 262-01 · roaming on Cubacel 368-01``, in Rich markup."""
    if view.sim is None:
        return f"Slot {view.slot}: [dim]empty[/dim]"
    line = f"Slot {view.slot}: [b]{view.sim.label}[/b] {view.sim.home.code}"
    if view.roaming and view.serving is not None:
        line += f" · [b yellow]roaming on {view.serving.name} {view.serving.code}[/b yellow]"
    elif view.serving is not None:
        line += " · home network"
    else:
        line += " · [dim]no service[/dim]"
    return line + f"\n        [dim]ICCID {view.sim.iccid}[/dim]"


class SimTrayScreen(ModalScreen[None]):
    CSS_PATH = "sim_tray_screen.tcss"
    #: set once composed; refreshes before that have nothing to update
    ready = False
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("1", "slot(1)", "Slot 1"),
        Binding("2", "slot(2)", "Slot 2"),
        Binding("x", "remove", "Remove"),
        Binding("s", "swap", "Swap"),
        Binding("n", "network", "Network"),
        Binding("f1", "app.toggle_keys", "Keys"),
    ]

    @property
    def phone(self) -> Phone:
        return self.app.phone  # type: ignore[attr-defined,no-any-return]

    def compose(self) -> ComposeResult:
        with Vertical(id="tray"):
            yield Static(
                "[b]SIM tray[/b]  pick a slot, then a carrier: Enter inserts", id="tray-title"
            )
            yield Static("", id="tray-slots")
            with RadioSet(id="slot"):
                yield RadioButton("Slot 1", value=True, id="slot-1")
                yield RadioButton("Slot 2", id="slot-2")
            yield ChoiceList(
                *(
                    Option(f"{n.name:<14} {n.territory:<12} {n.code}", id=n.name)
                    for n in CARRIERS.values()
                ),
                id="carriers",
            )
            with Horizontal(id="roaming"):
                yield Static("Serves on", id="roaming-label")
                yield ChoiceSelect(
                    [("home network", HOME)]
                    + [(f"roaming on {n.name} ({n.territory})", n.name) for n in CARRIERS.values()],
                    value=HOME,
                    allow_blank=False,
                    compact=True,
                    id="serving",
                )
            with Horizontal(id="custom"):
                yield Input(
                    placeholder="MCC", id="mcc", max_length=3, restrict=r"[0-9]*", compact=True
                )
                yield Input(
                    placeholder="MNC", id="mnc", max_length=3, restrict=r"[0-9]*", compact=True
                )
                yield Input(
                    placeholder="ICCID (optional)",
                    id="iccid",
                    max_length=20,
                    restrict=r"[0-9]*",
                    compact=True,
                )
                yield Button("Insert custom", id="insert-custom", compact=True)
            with Horizontal(id="tray-actions"):
                yield Button("Remove", id="remove", compact=True)
                yield Button("Swap slots", id="swap", compact=True)
                yield Button("Close", id="close", variant="primary", compact=True)
            yield Static("", id="tray-status")
        yield PhoneFooter()

    def on_mount(self) -> None:
        self.ready = True
        self.refresh_face()
        self._show_current_carrier()
        self.query_one("#carriers").focus()

    @property
    def selected_slot(self) -> int:
        return 2 if self.query_one("#slot-2", RadioButton).value else 1

    def action_slot(self, slot: int) -> None:
        self.query_one(f"#slot-{slot}", RadioButton).value = True

    @on(RadioSet.Changed, "#slot")
    def _slot_changed(self) -> None:
        self.refresh_face()
        self._show_current_carrier()

    def _show_current_carrier(self) -> None:
        """Highlight the carrier of the SIM in the selected slot, so the tray opens where the
        phone is, not on the list's first row (an empty slot, or a custom SIM, moves nothing)."""
        sim = self.phone.slot(self.selected_slot).sim
        codes = [network.code for network in CARRIERS.values()]
        if sim is not None and sim.home.code in codes:
            self.query_one("#carriers", OptionList).highlighted = codes.index(sim.home.code)

    def refresh_face(self) -> None:
        if not self.ready:
            return
        self.query_one("#tray-slots", Static).update(
            "\n".join(slot_line(view) for view in self.phone.slots)
        )
        serving = self.query_one("#serving", Select)
        serving.disabled = self.phone.slot(self.selected_slot).sim is None
        want = self._serving_choice(self.selected_slot)
        if serving.value != want:
            serving.value = want  # its Changed message then matches the phone: nothing to do

    def _serving_choice(self, slot: int) -> str:
        view = self.phone.slot(slot)
        return view.serving.name if view.roaming and view.serving is not None else HOME

    @property
    def recorder(self) -> Recorder:
        recorder: Recorder = self.app.recorder  # type: ignore[attr-defined]
        return recorder

    def _put(self, sim: Sim, **how: str) -> None:
        slot = self.selected_slot
        if self.phone.slot(slot).sim is not None:
            self.recorder.record("remove_sim", slot=slot)
        self.recorder.record("insert_sim", slot=slot, **how)
        try:
            self.phone.replace_sim(slot, sim)
        except PhoneError as exc:
            self._status(f"[red]{exc}[/red]")
            return
        self._status(f"{sim.label} in slot {slot}")
        self.refresh_face()

    def _status(self, text: str) -> None:
        self.query_one("#tray-status", Static).update(text)

    @on(OptionList.OptionSelected, "#carriers")
    def _carrier_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:
            self._put(
                Sim.of(carrier(event.option.id), card=self.selected_slot), carrier=event.option.id
            )

    @on(Select.Changed, "#serving")
    def _serving_chosen(self, event: Select.Changed) -> None:
        slot = self.selected_slot
        if self.phone.slot(slot).sim is None or event.value == self._serving_choice(slot):
            return  # the tray showing the phone's own choice, not the user making one
        network = None if event.value == HOME else carrier(str(event.value))
        if network is None:
            self.recorder.record("roam", slot=slot, home=True)
        else:
            self.recorder.record("roam", slot=slot, carrier=network.name)
        try:
            self.phone.roam(slot, network)
        except PhoneError as exc:
            self._status(f"[red]{exc}[/red]")
            return
        where = "its home network" if network is None else f"roaming on {network.name}"
        self._status(f"SIM {slot} serves on {where}")
        self.refresh_face()

    def action_network(self) -> None:
        """Open the serving-network choice for the selected slot."""
        serving = self.query_one("#serving", Select)
        if serving.disabled:
            self._status(f"slot {self.selected_slot} is empty: insert a SIM first")
            return
        serving.focus()
        serving.action_show_overlay()

    @on(Button.Pressed, "#insert-custom")
    @on(Input.Submitted)
    def _insert_custom(self) -> None:
        mcc = self.query_one("#mcc", Input).value
        mnc = self.query_one("#mnc", Input).value
        iccid = self.query_one("#iccid", Input).value or None
        try:
            sim = Sim.custom(mcc, mnc, iccid=iccid, card=self.selected_slot)
        except PhoneError as exc:
            self._status(f"[red]{exc}[/red]")
            return
        how = {"mcc": mcc, "mnc": mnc} | ({"iccid": iccid} if iccid else {})
        self._put(sim, **how)

    @on(Button.Pressed, "#remove")
    def action_remove(self) -> None:
        if self.phone.slot(self.selected_slot).sim is not None:
            self.recorder.record("remove_sim", slot=self.selected_slot)
        try:
            sim = self.phone.remove_sim(self.selected_slot)
        except PhoneError as exc:
            self._status(f"[red]{exc}[/red]")
            return
        self._status(f"{sim.label} removed from slot {self.selected_slot}")
        self.refresh_face()

    @on(Button.Pressed, "#swap")
    def action_swap(self) -> None:
        self.recorder.record("swap_sims")
        self.phone.swap_sims()
        self._status("slots swapped")
        self.refresh_face()

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss()
