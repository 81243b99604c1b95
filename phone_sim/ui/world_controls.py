"""The world's controls: the app's actions that work on every screen.

A mixin of :class:`phone_sim.ui.app.PhoneApp`, kept apart by concern: the SIM tray, the vendor
console and the inspector; switching and adding phones; moving the world's time; power,
reboot and factory reset of the phone in view; saving what was played as a scenario. Keys
(``PhoneApp.BINDINGS``) and the command palette (``palette.py``) call these actions; what the
user does to the first phone is recorded as scenario steps.
"""

from __future__ import annotations

from phone_sim.device.errors import PhoneError
from phone_sim.device.screens import screen_for
from phone_sim.device.state import DeviceState
from phone_sim.protocol.clock import TimeNotControllable
from phone_sim.ui.parts import AppParts
from phone_sim.ui.screens.later import CONFIRM, INSPECTOR, SIM_TRAY, VENDOR_CONSOLE


class WorldControls(AppParts):
    """The world's controls; see the module docstring."""

    def action_sim_tray(self) -> None:
        if not SIM_TRAY.holds(self.screen):
            self.push_screen(SIM_TRAY()())

    def action_vendor_console(self) -> None:
        if not VENDOR_CONSOLE.holds(self.screen):
            self.push_screen(VENDOR_CONSOLE()(), callback=lambda _: self.sync_screen())

    def action_inspector(self) -> None:
        if not INSPECTOR.holds(self.screen):
            self.push_screen(INSPECTOR()())

    def action_next_phone(self) -> None:
        """Bring the next phone of the world into view (the status bar names it)."""
        names = list(self.world.phones)
        if len(names) < 2:
            self.notify("This world has one phone: add one from the command palette", timeout=4)
            return
        self.current_name = names[(names.index(self.current_name) + 1) % len(names)]
        self.sync_screen(switched=True)
        self.notify(f"Now showing {self.current.label}", timeout=2)

    def action_add_phone(self) -> None:
        """A new phone from the factory joins the world, and comes into view."""
        taken = set(self.world.phones)
        name = next(f"phone-{n}" for n in range(2, len(taken) + 3) if f"phone-{n}" not in taken)
        try:
            world_phone = self.world.add_phone(name, new=True)
        except (PhoneError, OSError, ValueError) as exc:
            self.notify(f"No new phone: {exc}", severity="error")
            return
        self._watch(world_phone)
        self.current_name = name
        self.sync_screen(switched=True)
        self.notify(f"{world_phone.label} joined the world", timeout=3)

    def action_advance(self, seconds: float) -> None:
        """Let the world's time pass; every phone checks in on the way as in real time."""
        if not self.world.can_advance:
            try:
                self.world.clock.advance(seconds)
            except TimeNotControllable as exc:
                self.notify(str(exc), title="Time cannot move", severity="warning", timeout=10)
            return
        self.recorder.advanced(seconds)
        start = max(self.fast_forward_to or 0.0, self.world.clock.now())
        self.fast_forward_to = start + seconds
        self.notify(f"Advancing {seconds / 86400:g} days…", timeout=2)
        self.tick()

    def action_account(self) -> None:
        """Mi Account: sign in or out (the home screen's ``m``)."""
        self.recovery.open_account()

    def action_toggle_keys(self) -> None:
        """Show or hide the keys panel: every key the screen offers, with what it does."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_show_help_panel(self) -> None:
        """The keys panel with the phone's keys first (``f1``, and the palette's *Keys*)."""
        # Imported when first shown, as Textual imports its own panel: no first frame needs it.
        from phone_sim.ui.widgets.keys_panel import PhoneHelpPanel

        if not self.screen.query("HelpPanel"):
            self.screen.mount(PhoneHelpPanel())

    def action_factory_reset(self) -> None:
        """Ask first: a factory reset erases the phone's data."""
        self.push_screen(
            CONFIRM()(
                "Factory reset?",
                "This erases the phone's data: its activation, language and settings. "
                "The vendor keeps its record of this phone.",
                confirm="Erase",
            ),
            callback=self._factory_reset_confirmed,
        )

    def _factory_reset_confirmed(self, confirmed: bool | None) -> None:
        if not confirmed:
            self.notify("Factory reset cancelled", timeout=2)
            return
        if self._records(self.current):
            self.recorder.record("factory_reset")
        try:
            self.phone.factory_reset()
        except PhoneError as exc:
            self.notify(str(exc), severity="warning")

    def action_reboot(self) -> None:
        if self._records(self.current):
            self.recorder.record("reboot")
        try:
            self.phone.reboot()
        except PhoneError as exc:
            self.notify(str(exc), severity="warning")

    def action_power(self) -> None:
        phone = self.phone
        record = self._records(self.current)
        if phone.state is DeviceState.OFF:
            if record:
                self.recorder.record("boot")
            phone.power_on()
        else:
            if record:
                self.recorder.record("power_off")
            phone.power_off()

    def action_save_scenario(self) -> None:
        """Write what was played so far as a scenario file that replays to the same end."""
        first = next(iter(self.world))
        state = first.phone.state
        path = self.recorder.save(
            self.world.data_dir / "recordings", state=state.value, screen=screen_for(state)
        )
        self.notify(f"Scenario saved: {path}", timeout=8)
