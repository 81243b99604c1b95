"""Every screen of the app, reached the way a user reaches it, for the size and snapshot tests.

``STATES`` names each place a person can be (``"lock"``, ``"tray-roaming"``, ...). ``open_state``
builds the world it needs (headless steps through the device model where the screen does not
care how the phone got there), makes the app, and ``reach`` presses the keys that lead to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static, Tab
from textual.worker import WorkerCancelled

from phone_sim.device.phone import Phone
from phone_sim.device.provisioning import PhoneSpec
from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import DeviceState
from phone_sim.protocol.account import AccountAction
from phone_sim.ui.app import Pace, PhoneApp, make_app
from phone_sim.ui.screens.account_screen import AccountScreen
from phone_sim.ui.screens.boot_screen import BootScreen
from phone_sim.ui.screens.confirm_screen import ConfirmScreen
from phone_sim.ui.screens.dialer_screen import DialerScreen
from phone_sim.ui.screens.home_screen import HomeScreen
from phone_sim.ui.screens.inspector_screen import InspectorScreen
from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.ui.screens.off_screen import OffScreen
from phone_sim.ui.screens.setup_screen import SetupScreen
from phone_sim.ui.screens.sim_tray_screen import SimTrayScreen
from phone_sim.ui.screens.unblock_code_screen import UnblockCodeScreen
from phone_sim.ui.screens.vendor_console_screen import VendorConsoleScreen
from server_stub.policy import default_policy_text
from tests.support.one_phone import OnePhoneWorld
from tests.support.waits import focused_on_screen, wait_until

DAY = 86400
#: a boot that stays on its first picture for the length of a test
FROZEN_BOOT = Pace(3600, 3600, 3600, 3600, 0.02)
#: nothing listens here: activation fails the same way every time (a fixed, visible port)
DEAD_SERVER = "http://127.0.0.1:9"

Step = Callable[[Pilot[None], OnePhoneWorld], Awaitable[None]]


def is_screen(kind: type) -> Callable[[Pilot[None]], bool]:
    return lambda pilot: (
        isinstance(pilot.app.screen, kind) and getattr(pilot.app.screen, "ready", True)
    )


#: the packaged policy plus what a phone shows around a lock (protocol 2): a notice two days
#: ahead of the lock, a reminder one day ahead, and the lock screen's contact details
WARNING_POLICY = (
    default_policy_text().replace('version = "2021-09-sanctions-2"', 'version = "ui-warnings-1"')
    + """
[lock_warning]
notice_days_before = 2
reminder_days_before = 1
notice = "This device will be locked in two days: Xiaomi does not sell it where it was activated."
reminder = "This device will be locked tomorrow. Back up your data now."

[lock_screen]
phone = "+86 400 100 5678"
email = "service.global@xiaomi.example"
"""
)


# --- headless preparation of the phone -----------------------------------------------------


def _activated(sim: OnePhoneWorld, name: str) -> None:
    sim.phone.power_on()
    sim.phone.finish_boot()
    sim.phone.insert_sim(1, Sim.of(carrier(name)))
    assert sim.activate().accepted


def _locked(sim: OnePhoneWorld) -> None:
    _activated(sim, "Cubacel")
    sim.advance(3 * DAY)
    assert sim.phone.state is DeviceState.LOCKED


def _warned(days: int) -> Callable[[OnePhoneWorld], None]:
    """A Cuban phone under WARNING_POLICY, ``days`` after activation (1: the notice shows;
    2: the reminder; 3: locked, the contact details on its lock screen)."""

    def prepare(sim: OnePhoneWorld) -> None:
        assert sim.admin is not None
        sim.admin.set_policy(WARNING_POLICY)
        _activated(sim, "Cubacel")
        sim.advance(days * DAY)

    return prepare


#: a shop's phones, as activated: the first Cuban, then German and Cuban ones
FLEET = ("Cubacel", "Telekom", "Cubacel", "Telekom", "Vodafone", "Cubacel")


def fleet_of(phones: int) -> Callable[[OnePhoneWorld], None]:
    """``phones`` activated phones in one world (SIMs from :data:`FLEET` in turn), each named
    in the console's rows: phone, phone-2, phone-3..."""

    def prepare(sim: OnePhoneWorld) -> None:
        _activated(sim, FLEET[0])
        for n in range(2, phones + 1):
            phone = sim.world.add_phone(f"phone-{n}", new=True)
            phone.phone.power_on()
            phone.phone.finish_boot()
            phone.phone.insert_sim(1, Sim.of(carrier(FLEET[(n - 1) % len(FLEET)])))
            assert phone.activate().accepted

    return prepare


def _held(sim: OnePhoneWorld) -> None:
    """An activated German phone the operator has just held: the lock is pending."""
    _activated(sim, "Telekom")
    assert sim.admin is not None
    sim.admin.lock(sim.phone.identity.serial, reason="investigation")


# --- the key presses of each state ----------------------------------------------------------


async def _to_setup(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await wait_until(pilot, lambda: is_screen(SetupScreen)(pilot))
    await focused_on_screen(pilot)


async def _to_sims(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await _to_setup(pilot, sim)
    sim.phone.insert_sim(1, Sim.of(carrier("Cubacel")))
    await pilot.press("enter")  # Welcome: the first language


async def _to_network(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await _to_sims(pilot, sim)
    await pilot.press("enter")  # SIM cards: Next


async def _to_failed_activation(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    sim.client.base_url = DEAD_SERVER
    await _to_network(pilot, sim)
    await pilot.press("enter")  # Mobile network: Next -> checking activation, which fails
    await wait_until(pilot, lambda: sim.phone.last_error is not None)


async def _to_home(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await wait_until(pilot, lambda: is_screen(HomeScreen)(pilot))
    await focused_on_screen(pilot)


async def _to_lock(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await wait_until(pilot, lambda: is_screen(LockScreen)(pilot))
    await focused_on_screen(pilot)


async def _to_dialer(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await _to_lock(pilot, sim)
    await pilot.press("e")  # Emergency call
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, DialerScreen))


async def _to_tray_roaming(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await _to_home(pilot, sim)
    await pilot.press("t")  # SIM tray
    await wait_until(pilot, lambda: is_screen(SimTrayScreen)(pilot))
    await pilot.press("n")  # Network: the serving-network list opens
    await pilot.pause(0.1)
    # the list starts on "home network"; Cubacel is the 7th carrier
    await pilot.press(*["down"] * 7, "enter")
    await wait_until(pilot, lambda: sim.phone.slot(1).roaming)


async def _to_inspector(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await _to_home(pilot, sim)
    await pilot.press("i")
    await wait_until(pilot, lambda: is_screen(InspectorScreen)(pilot))


async def _to_palette(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await _to_home(pilot, sim)
    await pilot.press("ctrl+p")
    await wait_until(pilot, lambda: type(pilot.app.screen).__name__ == "CommandPalette")


async def _to_confirm_reset(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await _to_home(pilot, sim)
    pilot.app.action_factory_reset()  # type: ignore[attr-defined]  # as the palette does
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))


async def _one_more_poll(pilot: Pilot[None]) -> None:
    """One more live poll of the console, answered and drawn: nothing a poll brings is still on
    its way (its answer is a message the screen handles after the worker ends)."""
    screen = pilot.app.screen
    assert isinstance(screen, VendorConsoleScreen)
    while True:
        try:
            await screen.poll().wait()
            break
        except WorkerCancelled:
            continue  # the timer's own poll took its place (polls are exclusive): poll again
    await pilot.pause()


def _console_up(pilot: Pilot[None]) -> bool:
    """The console is in view with its tables and tabs mounted (a screen is on the stack before
    its widgets are; the tabs' own, a moment later still)."""
    screen = pilot.app.screen
    return isinstance(screen, VendorConsoleScreen) and all(
        screen.query(selector) for selector in ("#fleet", "#audit", "#policy-tab")
    )


async def _to_console(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await _to_lock(pilot, sim)
    await pilot.press("v")  # the vendor console, the locked phone in its fleet
    await wait_until(pilot, lambda: _console_up(pilot))
    fleet = pilot.app.screen.query_one("#fleet", DataTable)
    audit = pilot.app.screen.query_one("#audit", DataTable)
    policy = pilot.app.screen.query_one("#policy-tab", Tab)
    await wait_until(
        pilot,
        lambda: fleet.row_count == 1 and audit.row_count > 0 and "20" in policy.label.plain,
    )
    fleet.move_cursor(row=0)
    await _one_more_poll(pilot)


async def _to_console_fleet(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await _to_home(pilot, sim)
    await pilot.press("v")  # the vendor console: six phones, the one in view selected
    await wait_until(pilot, lambda: _console_up(pilot))
    fleet = pilot.app.screen.query_one("#fleet", DataTable)
    audit = pilot.app.screen.query_one("#audit", DataTable)
    phones = len(sim.world.phones)
    await wait_until(pilot, lambda: fleet.row_count == phones and audit.row_count > 0)
    await _one_more_poll(pilot)


async def _to_console_pending(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await _to_home(pilot, sim)
    await pilot.press("v")  # the vendor console: the hold decided, not delivered
    await wait_until(pilot, lambda: _console_up(pilot))
    fleet = pilot.app.screen.query_one("#fleet", DataTable)
    audit = pilot.app.screen.query_one("#audit", DataTable)
    await wait_until(pilot, lambda: fleet.row_count == 1 and audit.row_count > 0)
    fleet.move_cursor(row=0)
    await _one_more_poll(pilot)


async def _to_off(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await wait_until(pilot, lambda: is_screen(OffScreen)(pilot))


async def _to_boot(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await wait_until(pilot, lambda: is_screen(BootScreen)(pilot))


# --- version 2: the account lock and the unblock code ----------------------------------------

ACCOUNT = "alice@example.com"
PASSWORD = "correct-horse-9"


def _account_locked(sim: OnePhoneWorld) -> None:
    """Activated, signed in with Find Device, reset, and stopped by the vendor in setup."""
    _activated(sim, "Telekom")
    assert sim.first.account(AccountAction.SIGN_IN, ACCOUNT, PASSWORD).accepted
    sim.phone.factory_reset()
    sim.phone.finish_boot()
    assert sim.activate().accepted and sim.phone.account_locked


async def _to_account_locked(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await wait_until(pilot, lambda: is_screen(SetupScreen)(pilot))
    await focused_on_screen(pilot)
    await pilot.press(*ACCOUNT, "enter", *"wrong-password", "enter")  # a wrong password first
    await wait_until(pilot, lambda: "password_wrong" in (sim.phone.last_error or ""))
    await pilot.pause(0.1)


async def _to_sign_in(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await _to_home(pilot, sim)
    await pilot.press("m")  # Mi Account
    await wait_until(pilot, lambda: is_screen(AccountScreen)(pilot))
    await focused_on_screen(pilot)
    await pilot.press(*ACCOUNT)


async def _to_wrong_code(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await _to_lock(pilot, sim)
    await pilot.press("c")  # into the code box
    await wait_until(pilot, lambda: getattr(pilot.app.focused, "id", None) == "unblock-code")
    await pilot.press(*"12345678", "enter")
    await wait_until(pilot, lambda: sim.phone.unblock_attempts_left() == 4)


async def _to_console_code(pilot: Pilot[None], sim: OnePhoneWorld) -> None:
    await _to_console(pilot, sim)
    await pilot.press("c")  # Unblock code for the selected phone
    await wait_until(pilot, lambda: is_screen(UnblockCodeScreen)(pilot))
    await focused_on_screen(pilot)
    challenge = sim.phone.unblock_challenge
    assert challenge is not None
    await pilot.press(*challenge, "enter")
    result = pilot.app.screen.query_one("#code-result", Static)
    await wait_until(pilot, lambda: "read it out" in str(result.content))
    # The code depends on the phone's key, new in every run: the picture shows a fixed one.
    code = pilot.app.recovery.console_code  # type: ignore[attr-defined]
    assert code is not None and len(code) == 8
    result.update(str(result.content).replace(f"{code[:4]} {code[4:]}", "1234 5678"))
    for box in pilot.app.screen.query(Input):
        box.cursor_blink = False


@dataclass(frozen=True)
class State:
    """Where a person can be: the phone it needs, how the app starts, the keys to get there."""

    reach: Step
    spec: PhoneSpec = field(default_factory=PhoneSpec)
    prepare: Callable[[OnePhoneWorld], None] | None = None
    pace: Pace = field(default_factory=Pace.instant)
    power_on: bool = True


STATES: dict[str, State] = {
    "off": State(_to_off, power_on=False),
    "boot": State(_to_boot, pace=FROZEN_BOOT),
    "boot-unlocked": State(_to_boot, spec=PhoneSpec(bootloader_unlocked=True), pace=FROZEN_BOOT),
    "setup-welcome": State(_to_setup),
    "setup-sims": State(_to_sims),
    "setup-network": State(_to_network),
    "setup-activation-failed": State(_to_failed_activation),
    "home": State(_to_home, prepare=lambda sim: _activated(sim, "Telekom")),
    "lock": State(_to_lock, prepare=_locked),
    "dialer": State(_to_dialer, prepare=_locked),
    "tray-roaming": State(_to_tray_roaming, prepare=lambda sim: _activated(sim, "Telekom")),
    "inspector": State(_to_inspector, prepare=lambda sim: _activated(sim, "Telekom")),
    "palette": State(_to_palette, prepare=lambda sim: _activated(sim, "Telekom")),
    "confirm-reset": State(_to_confirm_reset, prepare=lambda sim: _activated(sim, "Telekom")),
    "console": State(_to_console, prepare=_locked),
    "home-notice": State(_to_home, prepare=_warned(1)),
    "home-reminder": State(_to_home, prepare=_warned(2)),
    "lock-contact": State(_to_lock, prepare=_warned(3)),
    "console-pending": State(_to_console_pending, prepare=_held),
    "console-fleet": State(_to_console_fleet, prepare=fleet_of(len(FLEET))),
    "setup-account-locked": State(_to_account_locked, prepare=_account_locked),
    "account-sign-in": State(_to_sign_in, prepare=lambda sim: _activated(sim, "Telekom")),
    "lock-wrong-code": State(_to_wrong_code, prepare=_locked),
    "console-unblock-code": State(_to_console_code, prepare=_locked),
}


def open_state(name: str, make_sim: Callable[..., OnePhoneWorld]) -> tuple[PhoneApp, OnePhoneWorld]:
    """The world and the (not yet running) app for state ``name``."""
    state = STATES[name]
    sim = make_sim(state.spec)
    if state.prepare is not None:
        state.prepare(sim)
    return make_app(sim.world, pace=state.pace, power_on=state.power_on), sim


@asynccontextmanager
async def in_state(
    name: str, make_sim: Callable[..., OnePhoneWorld], size: tuple[int, int], **run: bool
) -> AsyncIterator[tuple[PhoneApp, Pilot[None], OnePhoneWorld]]:
    """The app running at ``size`` (``run``: more of ``App.run_test``'s options), brought to
    state ``name``: (app, pilot, world)."""
    app, sim = open_state(name, make_sim)
    async with app.run_test(size=size, **run) as pilot:
        await STATES[name].reach(pilot, sim)
        yield app, pilot, sim


async def activate_in_view(
    pilot: Pilot[None], app: PhoneApp, phone: Phone, carrier_name: str
) -> None:
    """``phone``, the one in view, taken from setup to activated through the app, with a SIM of
    ``carrier_name`` in slot 1."""
    await wait_until(pilot, lambda: phone.state is DeviceState.SETUP)
    phone.insert_sim(1, Sim.of(carrier(carrier_name)))
    app.request_activation()
    await wait_until(pilot, lambda: phone.state is DeviceState.ACTIVATED)
