"""The phone-sim Textual app: a world's phones, one in view, and the world's controls.

The app owns no policy. It maps the phone in view's state to a screen, runs vendor round trips
in thread workers, and hands their results back to the device model on the UI thread. Time
moves through the world's one stepping loop (:meth:`phone_sim.world.World.move_toward`), one
step per tick, so a fast-forward holds every check-in it passes, of every phone.

The SIM tray, the vendor console, time and switching phones are the world's controls: they work
on every screen. The phone's own lock screen has no way out of itself.

This module holds the app's life cycle, which screen shows the phone in view
(``sync_screen``) and the world's heartbeat (``tick``); the rest lives by concern beside it:
the world's controls (``world_controls.py``), vendor round trips in thread workers
(``vendor_traffic.py``), the command palette's entries (``palette.py``), the Mi Account and the
unblock code (``recovery_actions.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.css.query import NoMatches
from textual.screen import Screen

from phone_sim.device.events import EventKind
from phone_sim.device.phone import Phone, PhoneEvent
from phone_sim.device.screens import Screen as PhoneFace
from phone_sim.device.screens import screen_for
from phone_sim.device.state import Activation, DeviceState
from phone_sim.protocol.clock import TimeNotControllable
from phone_sim.ui.messages import PhoneChanged
from phone_sim.ui.palette import world_commands
from phone_sim.ui.recorder import Recorder
from phone_sim.ui.recovery_actions import RecoveryActions
from phone_sim.ui.screens.base import PhoneScreen, ShowsPhone
from phone_sim.ui.screens.boot_screen import BootScreen
from phone_sim.ui.screens.home_screen import HomeScreen
from phone_sim.ui.screens.later import VENDOR_CONSOLE
from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.ui.screens.off_screen import OffScreen
from phone_sim.ui.screens.setup_screen import SetupScreen
from phone_sim.ui.vendor_traffic import VendorTraffic
from phone_sim.ui.world_controls import WorldControls
from phone_sim.world.phones import WorldPhone
from phone_sim.world.world import World

#: the screen class for each screen of :mod:`phone_sim.device.screens`
SCREEN_CLASSES: dict[PhoneFace, type[PhoneScreen]] = {
    PhoneFace.OFF: OffScreen,
    PhoneFace.BOOT: BootScreen,
    PhoneFace.SETUP: SetupScreen,
    PhoneFace.HOME: HomeScreen,
    PhoneFace.LOCK: LockScreen,
}


@dataclass(frozen=True)
class Pace:
    """How long the simulated boot steps take, in real seconds."""

    bootloader: float = 1.2
    unlocked_warning: float = 2.5
    logo: float = 1.0
    starting: float = 0.8
    #: how often the world's heartbeat runs (check-ins, offline rule, fast-forward steps)
    tick: float = 0.25

    @classmethod
    def instant(cls) -> Pace:
        """For tests: every step takes a blink."""
        return cls(0.01, 0.01, 0.01, 0.01, 0.02)


class PhoneApp(WorldControls, VendorTraffic, App[None]):
    TITLE = "phone-sim"
    CSS_PATH = "app.tcss"
    # Short descriptions: the footer must hold a screen's own keys and these at 80 columns
    # (PhoneFooter wraps them onto two rows when one is too narrow; f1 lists them all).
    BINDINGS = [
        Binding("t", "sim_tray", "SIM tray"),
        Binding("v", "vendor_console", "Vendor"),
        Binding("a", "advance(259200)", "+3 days"),
        Binding("n", "next_phone", "Next phone"),
        Binding("r", "reboot", "Reboot"),
        Binding("p", "power", "Power"),
        Binding("i", "inspector", "Inspector"),
        Binding("f1", "toggle_keys", "Keys"),
        Binding("ctrl+s", "save_scenario", "Save scenario", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
        # As the keys come, not after the keys queued behind them (phone_sim/ui/widgets/fields.py).
        Binding("tab", "focus_next", "Next field", show=False, priority=True),
        Binding("shift+tab", "focus_previous", "Previous field", show=False, priority=True),
    ]

    def __init__(
        self,
        world: World,
        *,
        pace: Pace | None = None,
        power_on: bool = True,
        phone: str | None = None,
    ) -> None:
        super().__init__()
        if not world.phones:
            raise ValueError("a world with no phone has nothing to show")
        self.world = world
        self.pace = pace or Pace()
        self._power_on_at_start = power_on
        #: the name of the phone in view
        self.current_name = phone if phone is not None else next(iter(world.phones))
        #: while fast-forwarding ("advance 3 days"), the world's time to reach
        self.fast_forward_to: float | None = None
        #: the phone screen showing the phone in view (modals may sit above it)
        self._face: PhoneScreen | None = None
        #: the Mi Account and the unblock code (version 2)
        self.recovery = RecoveryActions(self)
        #: what the user plays on the first phone, exportable as a scenario file (ctrl+s)
        first = next(iter(world))
        self.recorder = Recorder(
            world.clock, first.phone.identity, fresh=first.phone.activation is Activation.NONE
        )
        # SIMs kept in the tray from an earlier run: a replay starts from a new, empty phone.
        for view in first.phone.slots:
            if view.sim is not None:
                self.recorder.record(
                    "insert_sim",
                    slot=view.slot,
                    mcc=view.sim.home_mcc,
                    mnc=view.sim.home_mnc,
                    iccid=view.sim.iccid,
                )

    # --- what the screens read ------------------------------------------------------------

    @property
    def current(self) -> WorldPhone:
        """The phone in view."""
        return self.world.phones[self.current_name]

    @property
    def phone(self) -> Phone:
        return self.current.phone

    @property
    def phone_label(self) -> str | None:
        """How the status bar names the phone in view (None while the world has one)."""
        return self.current.label if len(self.world.phones) > 1 else None

    def _records(self, world_phone: WorldPhone) -> bool:
        return world_phone is next(iter(self.world))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "Next phone" is offered (and shown in the footer) only once there is another phone.
        if action == "next_phone":
            return len(self.world.phones) > 1
        return True

    # --- life cycle ----------------------------------------------------------------------

    def on_mount(self) -> None:
        for world_phone in self.world:
            self._watch(world_phone)
        self.sync_screen()
        self.set_interval(self.pace.tick, self.tick)
        # A vendor opened to serve later (phone-sim's own) loads its stack once the first frame
        # is on the screen (docs/decisions/tui-first-frame-before-the-server.md).
        self.call_after_refresh(self._serve_vendor)

    def _serve_vendor(self) -> None:
        def serve() -> None:
            try:
                self.world.vendor.serve()
            except Exception as exc:  # the server's own files: shown, not a traceback
                message = f"phone-sim: the vendor server did not start: {exc}"
                self.call_from_thread(self.exit, return_code=2, message=message)

        self.run_worker(
            serve, thread=True, name="vendor-serve", group="vendor", exit_on_error=False
        )

    def _watch(self, world_phone: WorldPhone) -> None:
        name = world_phone.name

        def changed(event: PhoneEvent) -> None:
            # Model methods run on the UI thread, so posting here is safe and keeps ordering.
            self.post_message(PhoneChanged(event, name))

        world_phone.phone.subscribe(changed)
        if self._power_on_at_start and world_phone.phone.state is DeviceState.OFF:
            if self._records(world_phone):
                self.recorder.record("boot")
            world_phone.phone.power_on()

    def on_unmount(self) -> None:
        self.workers.cancel_all()

    def on_phone_changed(self, message: PhoneChanged) -> None:
        event = message.event
        if message.name == self.current_name:
            if event.kind in (EventKind.SIM, EventKind.NETWORK, EventKind.CALL):
                self.notify(event.detail, timeout=3)
            elif event.kind is EventKind.NOTICE:
                self.notify(event.detail, title="Notice", timeout=8)
            elif event.kind is EventKind.WARNING and event.detail:
                # Also shown for as long as it stands: status bar and home screen.
                shown = self.phone.warning
                title = "Notice" if shown is not None and shown.dismissible else "Warning"
                self.notify(event.detail, title=title, severity="warning", timeout=8)
        elif event.kind in (EventKind.STATE, EventKind.NOTICE, EventKind.WARNING) and event.detail:
            self.notify(f"{message.name}: {event.detail}", timeout=3)
        self.sync_screen()

    def sync_screen(self, *, switched: bool = False) -> None:
        """Show the screen for the phone in view; close overlays its state change made stale.

        ``switched``: another phone came into view, so the face is built anew even if the
        screen's kind is the same.
        """
        if not self.screen_stack:
            return  # the app is shutting down; a late answer has nothing to show
        if VENDOR_CONSOLE.holds(self.screen) and not switched:
            return  # the operator is at the console; the phone catches up when it closes
        wanted = SCREEN_CLASSES[screen_for(self.phone.state)]
        # Compare with the face last installed, not the stack: a switch in progress must not
        # be started twice (the first new screen would be torn down while it mounts).
        if isinstance(self._face, wanted) and not switched:
            for screen in self.screen_stack[1:]:
                if isinstance(screen, ShowsPhone):
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

    # --- the world's heartbeat --------------------------------------------------------------

    def tick(self) -> None:
        """Offline rules, due time syncs and check-ins of every phone, and fast-forwarding."""
        for world_phone in self.world:
            phone = world_phone.phone
            if phone.state is DeviceState.BOOTING and world_phone.name != self.current_name:
                # Only the phone in view shows its boot screen; the others finish booting
                # with nobody watching.
                phone.finish_boot()
            phone.tick()
        if any(p.phone.pending or p.phone.time_pending for p in self.world):
            return  # time waits for the answers, so a fast-forward cannot skip past them
        if any([self._start_due(p) for p in self.world]):
            return
        target = self.fast_forward_to
        if target is None:
            return
        try:
            reached = self.world.move_toward(target)
        except TimeNotControllable as exc:
            self.fast_forward_to = None
            self.notify(str(exc), title="Time cannot move", severity="warning", timeout=10)
            return
        if reached:
            self.fast_forward_to = None
            self.notify("Time advanced", timeout=2)
        for world_phone in self.world:
            world_phone.phone.tick()
            # Start what falls due at this step now, so the fast-forward is never seen as
            # finished while a check-in is still owed.
            self._start_due(world_phone)
        self.sync_screen()

    def _start_due(self, world_phone: WorldPhone) -> bool:
        """Start the phone's time sync or check-in if one is due; whether one started."""
        phone = world_phone.phone
        if phone.time_sync_due() is not None:
            self._ask_time(world_phone)
            return True
        if phone.checkin_due() is not None:
            self._start(world_phone, phone.begin_activation)
            return True
        return False

    # --- screenshots and the command palette ------------------------------------------------

    def deliver_screenshot(
        self, filename: str | None = None, path: str | None = None, time_format: str | None = None
    ) -> str | None:
        """Save screenshots in the data directory (Textual's default, ~/Downloads, may not exist)."""
        if path is None:
            directory = self.world.data_dir / "screenshots"
            directory.mkdir(parents=True, exist_ok=True)
            path = str(directory.resolve())
        return super().deliver_screenshot(filename, path, time_format)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from world_commands(self)
        yield from self.recovery.commands()


def make_app(
    world: World, *, pace: Pace | None = None, power_on: bool = True, phone: str | None = None
) -> PhoneApp:
    """The one app factory, used by the entry point and the tests."""
    return PhoneApp(world, pace=pace, power_on=power_on, phone=phone)
