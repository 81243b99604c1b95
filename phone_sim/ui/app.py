"""The phone-sim Textual app: one phone, its SIM tray, and a protocol inspector.

The app owns no policy. It maps the device model's state to a screen, runs vendor round trips
in thread workers, and hands their results back to the model on the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import suppress
from dataclasses import dataclass
from functools import partial

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from phone_sim.device.errors import PhoneError
from phone_sim.device.exchange import Exchange
from phone_sim.device.phone import ActivationAttempt, PhoneEvent
from phone_sim.device.state import Activation, DeviceState
from phone_sim.scenario.screens import screen_for
from phone_sim.simulation import Simulation
from phone_sim.ui.messages import PhoneChanged, VendorAnswered
from phone_sim.ui.recorder import Recorder
from phone_sim.ui.screens.base import PhoneScreen
from phone_sim.ui.screens.boot_screen import BootScreen
from phone_sim.ui.screens.confirm_screen import ConfirmScreen
from phone_sim.ui.screens.home_screen import HomeScreen
from phone_sim.ui.screens.inspector_screen import InspectorScreen
from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.ui.screens.off_screen import OffScreen
from phone_sim.ui.screens.setup_screen import SetupScreen
from phone_sim.ui.screens.sim_tray_screen import SimTrayScreen
from phone_sim.ui.screens.vendor_console_screen import VendorConsoleScreen

#: the screen class for each screen name of :mod:`phone_sim.scenario.screens`
SCREEN_CLASSES: dict[str, type[PhoneScreen]] = {
    "off": OffScreen,
    "boot": BootScreen,
    "setup": SetupScreen,
    "home": HomeScreen,
    "lock": LockScreen,
}


@dataclass(frozen=True)
class Pace:
    """How long the simulated boot and setup steps take, in real seconds."""

    bootloader: float = 1.2
    unlocked_warning: float = 2.5
    logo: float = 1.0
    starting: float = 0.8
    setup_step: float = 0.6
    #: how often the phone's heartbeat runs (check-ins, offline rule, fast-forward steps)
    tick: float = 0.25

    @classmethod
    def instant(cls) -> Pace:
        """For tests: every step takes a blink."""
        return cls(0.01, 0.01, 0.01, 0.01, 0.01, 0.02)


class PhoneApp(App[None]):
    TITLE = "phone-sim"
    CSS_PATH = "app.tcss"
    # Short descriptions: the footer must hold a screen's own keys and these at 80 columns
    # (PhoneFooter wraps them onto two rows when one is too narrow; f1 lists them all).
    BINDINGS = [
        Binding("t", "sim_tray", "SIM tray"),
        Binding("v", "vendor_console", "Vendor"),
        Binding("a", "advance(259200)", "+3 days"),
        Binding("r", "reboot", "Reboot"),
        Binding("p", "power", "Power"),
        Binding("i", "inspector", "Inspector"),
        Binding("f1", "toggle_keys", "Keys"),
        Binding("ctrl+s", "save_scenario", "Save scenario", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    def __init__(self, sim: Simulation, *, pace: Pace | None = None, power_on: bool = True) -> None:
        super().__init__()
        self.sim = sim
        self.pace = pace or Pace()
        self._power_on_at_start = power_on
        #: while fast-forwarding ("advance 3 days"), the simulated time to reach
        self.fast_forward_to: float | None = None
        #: the phone screen showing the phone's state (modals may sit above it)
        self._face: PhoneScreen | None = None
        #: what the user plays, exportable as a scenario file (ctrl+s)
        self.recorder = Recorder(
            sim.clock, sim.phone.identity, fresh=sim.phone.activation is Activation.NONE
        )
        # SIMs kept in the tray from an earlier run: a replay starts from a new, empty phone.
        for view in sim.phone.slots:
            if view.sim is not None:
                self.recorder.record(
                    "insert_sim",
                    slot=view.slot,
                    mcc=view.sim.home_mcc,
                    mnc=view.sim.home_mnc,
                    iccid=view.sim.iccid,
                )

    # --- life cycle ----------------------------------------------------------------------

    def on_mount(self) -> None:
        self.sim.phone.subscribe(self._phone_event)
        if self._power_on_at_start and self.sim.phone.state is DeviceState.OFF:
            self.recorder.record("boot")
            self.sim.phone.power_on()
        self.sync_screen()
        self.set_interval(self.pace.tick, self.tick)

    def on_unmount(self) -> None:
        self.workers.cancel_all()

    def _phone_event(self, event: PhoneEvent) -> None:
        # Model methods run on the UI thread, so posting here is safe and keeps ordering.
        self.post_message(PhoneChanged(event))

    def on_phone_changed(self, message: PhoneChanged) -> None:
        event = message.event
        if event.kind in ("sim", "network", "call"):
            self.notify(event.detail, timeout=3)
        elif event.kind == "notice":
            self.notify(event.detail, title="Notice", timeout=8)
        self.sync_screen()

    def sync_screen(self) -> None:
        """Show the screen for the phone's state; close overlays that state change made stale."""
        if not self.screen_stack:
            return  # the app is shutting down; a late answer has nothing to show
        if isinstance(self.screen, VendorConsoleScreen):
            return  # the operator is at the console; the phone catches up when it closes
        wanted = SCREEN_CLASSES[screen_for(self.sim.phone.state)]
        # Compare with the face last installed, not the stack: a switch in progress must not
        # be started twice (the first new screen would be torn down while it mounts).
        if isinstance(self._face, wanted):
            for screen in self.screen_stack[1:]:
                if isinstance(screen, PhoneScreen | SimTrayScreen | InspectorScreen):
                    # a screen mid-switch has no widgets to update; it renders on mount
                    with suppress(NoMatches):
                        screen.refresh_face()
            return
        while len(self.screen_stack) > 2:
            self.pop_screen()
        face = wanted()
        if self._face is None:
            self.push_screen(face)
        else:
            self.switch_screen(face)
        self._face = face

    # --- vendor round trips ----------------------------------------------------------------

    def tick(self) -> None:
        """The phone's heartbeat: offline rule, due check-ins, and fast-forwarding time."""
        phone = self.sim.phone
        phone.tick()
        if phone.pending is not None:
            return  # time waits for the answer, so a fast-forward cannot skip past it
        if phone.checkin_due() is not None:
            self._start(phone.begin_activation)
            return
        target = self.fast_forward_to
        if target is None:
            return
        now = self.sim.clock.now()
        next_at = phone.schedule.next_at
        step_to = next_at if next_at is not None and now < next_at <= target else target
        self.sim.clock.advance(max(0.0, step_to - now))
        if step_to >= target:
            self.fast_forward_to = None
            self.notify("Time advanced", timeout=2)
        phone.tick()
        if phone.checkin_due() is not None:
            # Start the check-in that falls due at this step now, so the fast-forward is never
            # seen as finished while one is still owed.
            self._start(phone.begin_activation)
        self.sync_screen()

    def request_activation(self) -> None:
        """Ask the vendor now: activation from setup; a check-in when activated or locked."""
        phone = self.sim.phone
        self.recorder.record("activate" if phone.state is DeviceState.SETUP else "check_in")
        if phone.state in (DeviceState.ACTIVATED, DeviceState.LOCKED):
            phone.retry()
            self.tick()
            return
        self._start(phone.begin_activation)

    def _start(self, begin: Callable[[], ActivationAttempt]) -> None:
        try:
            attempt = begin()
        except PhoneError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.sync_screen()
        self._send(attempt)

    @work(thread=True, exclusive=True, exit_on_error=False, group="vendor")
    def _send(self, attempt: ActivationAttempt) -> None:
        # Runs in a thread: network only, no widgets; the result goes back as a message.
        exchange = self.sim.client.send(attempt)
        self.post_message(VendorAnswered(attempt, exchange))

    def on_vendor_answered(self, message: VendorAnswered) -> None:
        outcome = self.sim.phone.complete_activation(message.attempt, message.exchange)
        if not outcome.accepted:
            self.notify(self.sim.phone.last_error or outcome.detail, severity="error", timeout=6)
        self.sync_screen()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The client turns I/O failures into exchanges; this catches anything else, so a bug
        # shows as a clear on-screen error instead of a traceback or a phone stuck "checking".
        if event.state is not WorkerState.ERROR or event.worker.group != "vendor":
            return
        attempt = self.sim.phone.pending
        if attempt is None:
            return
        error = event.worker.error
        failed = Exchange(
            kind=attempt.kind,
            url=self.sim.server_url,
            request_headers={},
            request_body=attempt.request.encode(),
            sent_at=attempt.started_at,
            error_code="client_error",
            error=f"{type(error).__name__}: {error}",
        )
        self.post_message(VendorAnswered(attempt, failed))

    # --- actions -----------------------------------------------------------------------

    def action_sim_tray(self) -> None:
        if not isinstance(self.screen, SimTrayScreen):
            self.push_screen(SimTrayScreen())

    def action_vendor_console(self) -> None:
        if not isinstance(self.screen, VendorConsoleScreen):
            self.push_screen(VendorConsoleScreen(), callback=lambda _: self.sync_screen())

    def action_inspector(self) -> None:
        if not isinstance(self.screen, InspectorScreen):
            self.push_screen(InspectorScreen())

    def action_advance(self, seconds: float) -> None:
        """Let simulated time pass; the phone checks in on the way as it would in real time."""
        self.recorder.advanced(seconds)
        start = max(self.fast_forward_to or 0.0, self.sim.clock.now())
        self.fast_forward_to = start + seconds
        self.notify(f"Advancing {seconds / 86400:g} days…", timeout=2)
        self.tick()

    def action_toggle_keys(self) -> None:
        """Show or hide the keys panel: every key the screen offers, with what it does."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()

    def action_factory_reset(self) -> None:
        """Ask first: a factory reset erases the phone's data."""
        self.push_screen(
            ConfirmScreen(
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
        self.recorder.record("factory_reset")
        try:
            self.sim.phone.factory_reset()
        except PhoneError as exc:
            self.notify(str(exc), severity="warning")

    def action_reboot(self) -> None:
        self.recorder.record("reboot")
        try:
            self.sim.phone.reboot()
        except PhoneError as exc:
            self.notify(str(exc), severity="warning")

    def action_power(self) -> None:
        phone = self.sim.phone
        if phone.state is DeviceState.OFF:
            self.recorder.record("boot")
            phone.power_on()
        else:
            self.recorder.record("power_off")
            phone.power_off()

    def action_save_scenario(self) -> None:
        """Write what was played so far as a scenario file that replays to the same end."""
        state = self.sim.phone.state
        path = self.recorder.save(
            self.sim.data_dir / "recordings", state=state.value, screen=screen_for(state)
        )
        self.notify(f"Scenario saved: {path}", timeout=8)

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """Save screenshots in the data directory (Textual's default, ~/Downloads, may not exist)."""
        if path is None:
            directory = self.sim.data_dir / "screenshots"
            directory.mkdir(parents=True, exist_ok=True)
            path = str(directory.resolve())
        return super().deliver_screenshot(filename, path, time_format)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("SIM tray", "Insert, remove or swap SIM cards", self.action_sim_tray)
        yield SystemCommand(
            "Protocol inspector", "Requests, verdicts, signature checks", self.action_inspector
        )
        yield SystemCommand(
            "Reboot phone", "Power-cycle; a locked phone stays locked", self.action_reboot
        )
        yield SystemCommand("Power on/off", "Hold the power button", self.action_power)
        for label, seconds in (
            ("1 hour", 3600),
            ("1 day", 86400),
            ("3 days", 259200),
            ("7 days", 604800),
        ):
            yield SystemCommand(
                f"Advance time {label}",
                "Simulated time passes; scheduled check-ins happen on the way",
                partial(self.action_advance, seconds),
            )
        yield SystemCommand(
            "Save scenario", "Export what was played as a scenario file", self.action_save_scenario
        )
        yield SystemCommand(
            "Factory reset",
            "Erase the phone (the vendor keeps its record)",
            self.action_factory_reset,
        )
        if self.sim.phone.state in (DeviceState.LOCKED, DeviceState.ACTIVATED, DeviceState.SETUP):
            yield SystemCommand(
                "Ask the vendor again", "Send a fresh signed request", self.request_activation
            )


def make_app(sim: Simulation, *, pace: Pace | None = None, power_on: bool = True) -> PhoneApp:
    """The one app factory, used by the entry point and the tests."""
    return PhoneApp(sim, pace=pace, power_on=power_on)
