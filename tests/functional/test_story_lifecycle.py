"""Issue #3's story on the real server: delayed lock, tourists, release, reset, custom ROM.

Headless tests drive the device model through ``OnePhoneWorld``; the last one plays both sides
in the real app (phone and vendor console) under Pilot.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import DataTable

from phone_sim.device.provisioning import PhoneSpec
from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import DeviceState
from phone_sim.ui.app import Pace, make_app
from phone_sim.ui.screens.dialer_screen import DialerScreen
from phone_sim.ui.screens.home_screen import HomeScreen
from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.ui.screens.setup_screen import SetupScreen
from phone_sim.ui.screens.sim_tray_screen import SimTrayScreen
from phone_sim.ui.screens.vendor_console_screen import VendorConsoleScreen
from tests.functional.conftest import on_screen, wait_until
from tests.support.console import fleet_cell
from tests.support.one_phone import OnePhoneWorld
from tests.support.waits import focused_on_screen

DAY = 86400
HOUR = 3600


def activated_with(sim: OnePhoneWorld, name: str) -> OnePhoneWorld:
    sim.phone.power_on()
    sim.phone.finish_boot()
    sim.phone.insert_sim(1, Sim.of(carrier(name)))
    assert sim.activate().accepted
    assert sim.phone.state is DeviceState.ACTIVATED
    return sim


def test_lock_is_delivered_at_the_first_checkin_after_the_delay_and_not_before(
    sim: OnePhoneWorld,
) -> None:
    activated_with(sim, "Cubacel")
    outcomes = sim.advance(3 * DAY - HOUR)
    assert [o.verdict.status for o in outcomes if o.verdict] == ["activated", "activated"]
    assert sim.phone.state is DeviceState.ACTIVATED
    sim.advance(HOUR)
    assert sim.phone.state is DeviceState.LOCKED
    assert sim.phone.lock_reason == "EMBARGOED_TERRITORY"


def test_a_tourist_roaming_on_cubacel_is_never_locked(sim: OnePhoneWorld) -> None:
    activated_with(sim, "Telekom")
    sim.phone.roam(1, carrier("Cubacel"))  # the German SIM now serves on Cubacel's network
    sim.advance(10 * DAY)
    assert sim.phone.state is DeviceState.ACTIVATED
    assert sim.phone.exchanges[-1].request_body.count(b'"serving_mcc":"368"') == 1


def test_a_cuban_home_sim_in_a_phone_activated_in_germany_is_locked(sim: OnePhoneWorld) -> None:
    activated_with(sim, "Telekom")
    sim.phone.replace_sim(1, Sim.of(carrier("Cubacel")))
    sim.advance(3 * DAY + HOUR)
    assert sim.phone.state is DeviceState.LOCKED


def test_release_reaches_a_locked_phone_at_its_next_checkin(sim: OnePhoneWorld) -> None:
    activated_with(sim, "Volna")
    sim.advance(3 * DAY)
    assert sim.phone.state is DeviceState.LOCKED
    assert sim.admin is not None
    sim.admin.release(sim.phone.identity.serial, reason="SMUGGLING_CHECK_DONE")
    assert sim.phone.state is DeviceState.LOCKED  # nothing reaches the phone by itself
    sim.advance(DAY)
    assert sim.phone.state is DeviceState.ACTIVATED
    assert sim.phone.lock_reason == "RELEASED"


def test_an_investigation_hold_by_imei_and_a_bulk_release(sim: OnePhoneWorld) -> None:
    activated_with(sim, "Telekom")
    assert sim.admin is not None
    sim.admin.lock(sim.phone.identity.imeis[1], reason="investigation")
    sim.advance(DAY)
    assert sim.phone.state is DeviceState.LOCKED and sim.phone.lock_reason == "INVESTIGATION_HOLD"
    released = sim.admin.release_all(reason="INVESTIGATION_CLOSED")
    assert sim.phone.identity.serial in released.released
    sim.advance(DAY)
    assert sim.phone.state is DeviceState.ACTIVATED


def test_reboot_and_factory_reset_keep_the_vendors_decision(sim: OnePhoneWorld) -> None:
    activated_with(sim, "Cubacel")
    sim.advance(3 * DAY)
    assert sim.phone.state is DeviceState.LOCKED
    sim.phone.reboot()
    sim.phone.finish_boot()
    assert sim.phone.state is DeviceState.LOCKED
    sim.phone.factory_reset()
    sim.phone.finish_boot()
    assert sim.phone.state is DeviceState.SETUP
    sim.phone.replace_sim(1, Sim.of(carrier("Telekom")))  # new owner, German SIM
    sim.activate()
    sim.run_due()
    # The vendor kept its record: the phone re-activates into the same decision.
    assert sim.phone.state is DeviceState.LOCKED


def test_custom_rom_never_locks(make_sim: Callable[..., OnePhoneWorld]) -> None:
    sim = make_sim(PhoneSpec(bootloader_unlocked=True, custom_rom=True))
    sim.phone.power_on()
    sim.phone.finish_boot()
    sim.phone.insert_sim(1, Sim.of(carrier("Cubacel")))
    sim.phone.finish_setup_without_vendor()
    sim.advance(30 * DAY)
    assert sim.phone.state is DeviceState.ACTIVATED and sim.phone.exchanges == []


@pytest.mark.slow
async def test_one_person_plays_the_readme_story_steps_1_to_8_with_keys(
    sim: OnePhoneWorld,
) -> None:
    """README "The story, played in the TUI", each step as the keys a person presses."""
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=(80, 24)) as pilot:
        # 1. The phone boots; at Welcome press Enter.
        await wait_until(pilot, lambda: isinstance(app.screen, SetupScreen))
        await focused_on_screen(pilot)
        await pilot.press("enter")
        # 2. t (SIM tray), Cubacel with the arrows and Enter, Esc to close.
        await pilot.press("t")
        await on_screen(pilot, SimTrayScreen)
        await focused_on_screen(pilot)
        await pilot.press(*["down"] * 6, "enter")
        await wait_until(pilot, lambda: sim.phone.slot(1).sim is not None)
        assert sim.phone.slot(1).sim.label == "Cubacel"  # type: ignore[union-attr]
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SetupScreen))
        await focused_on_screen(pilot)
        # 3. Enter through SIM cards and Mobile network: the vendor activates the phone.
        await pilot.press("enter", "enter")
        await on_screen(pilot, HomeScreen)
        # 4. v: the console shows the phone flagged, territory Cuba, a lock due date.
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, VendorConsoleScreen))
        fleet = app.screen.query_one("#fleet", DataTable)
        await wait_until(pilot, lambda: fleet.row_count == 1)
        assert (fleet_cell(fleet, "state"), fleet_cell(fleet, "territory")) == ("flagged", "Cuba")
        assert fleet_cell(fleet, "lock due") != "—"
        # 5. a (+3 days): the console shows the phone locked, the audit the embargo decision.
        await pilot.press("a")
        await wait_until(pilot, lambda: fleet_cell(fleet, "state") == "locked", timeout=20)
        # ... delivered by that check-in (the delivery column), as Knox Guard's "Locked"
        await wait_until(pilot, lambda: str(fleet_cell(fleet, "delivery")) == "lock ✓ 04 Sep 12:00")
        audit = app.screen.query_one("#audit", DataTable)
        await wait_until(
            pilot,
            lambda: any(
                audit.get_row_at(i)[4] == "embargo:activation:home" for i in range(audit.row_count)
            ),
        )
        # 6. Esc: the lock screen. e and 112 call; r reboots into it; a German SIM does not help.
        await pilot.press("escape")
        await on_screen(pilot, LockScreen)
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, DialerScreen))
        await focused_on_screen(pilot)
        await pilot.press("1", "1", "2", "enter")
        assert sim.phone.active_call == "112"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
        await focused_on_screen(pilot)
        await pilot.press("r")
        await wait_until(pilot, lambda: sim.phone.state is DeviceState.LOCKED)
        await on_screen(pilot, LockScreen)
        await pilot.press("t")
        await on_screen(pilot, SimTrayScreen)
        await focused_on_screen(pilot)
        # The tray opens on Cubacel, the slot's SIM; Home, Enter: Telekom, the first carrier.
        await pilot.press("home", "enter")
        await wait_until(pilot, lambda: sim.phone.slot(1).sim.label == "Telekom")  # type: ignore[union-attr]
        await pilot.press("escape")
        await wait_until(pilot, lambda: sim.phone.pending is None)
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
        assert sim.phone.state is DeviceState.LOCKED
        # 7. v, the phone selected, u: released; nothing reaches the phone by itself.
        await focused_on_screen(pilot)
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, VendorConsoleScreen))
        fleet = app.screen.query_one("#fleet", DataTable)
        await wait_until(pilot, lambda: fleet.row_count == 1)
        await pilot.press("u")
        await wait_until(pilot, lambda: fleet_cell(fleet, "state") == "released")
        assert fleet_cell(fleet, "delivery") == "release pending"  # until the phone's next contact
        assert sim.phone.state is DeviceState.LOCKED
        # 8. Esc, then ctrl+r (Retry): the release reaches the phone, home with the notice.
        await pilot.press("escape")
        await on_screen(pilot, LockScreen)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert sim.phone.lock_reason == "RELEASED"
