"""Issue #3's story on the real server: delayed lock, tourists, release, reset, custom ROM.

Headless tests drive the device model through ``Simulation``; the last one plays both sides
in the real app (phone and vendor console) under Pilot.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from textual.widgets import DataTable

from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import DeviceState
from phone_sim.simulation import PhoneSpec, Simulation
from phone_sim.ui.app import Pace, make_app
from phone_sim.ui.screens.home_screen import HomeScreen
from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.ui.screens.setup_screen import SetupScreen
from phone_sim.ui.screens.vendor_console_screen import VendorConsoleScreen
from tests.functional.conftest import wait_until

DAY = 86400
HOUR = 3600


def activated_with(sim: Simulation, name: str) -> Simulation:
    sim.phone.power_on()
    sim.phone.finish_boot()
    sim.phone.insert_sim(1, Sim.of(carrier(name)))
    assert sim.activate().accepted
    assert sim.phone.state is DeviceState.ACTIVATED
    return sim


def test_lock_is_delivered_at_the_first_checkin_after_the_delay_and_not_before(
    sim: Simulation,
) -> None:
    activated_with(sim, "Cubacel")
    outcomes = sim.advance(3 * DAY - HOUR)
    assert [o.verdict.status for o in outcomes if o.verdict] == ["activated", "activated"]
    assert sim.phone.state is DeviceState.ACTIVATED
    sim.advance(HOUR)
    assert sim.phone.state is DeviceState.LOCKED
    assert sim.phone.lock_reason == "EMBARGOED_TERRITORY"


def test_a_tourist_roaming_on_cubacel_is_never_locked(sim: Simulation) -> None:
    activated_with(sim, "Telekom")
    sim.phone.roam(1, carrier("Cubacel"))  # the German SIM now serves on Cubacel's network
    sim.advance(10 * DAY)
    assert sim.phone.state is DeviceState.ACTIVATED
    assert sim.phone.exchanges[-1].request_body.count(b'"serving_mcc":"368"') == 1


def test_a_cuban_home_sim_in_a_phone_activated_in_germany_is_locked(sim: Simulation) -> None:
    activated_with(sim, "Telekom")
    sim.phone.replace_sim(1, Sim.of(carrier("Cubacel")))
    sim.advance(3 * DAY + HOUR)
    assert sim.phone.state is DeviceState.LOCKED


def test_release_reaches_a_locked_phone_at_its_next_checkin(sim: Simulation) -> None:
    activated_with(sim, "Volna")
    sim.advance(3 * DAY)
    assert sim.phone.state is DeviceState.LOCKED
    assert sim.admin is not None
    sim.admin.release(sim.phone.identity.serial, reason="SMUGGLING_CHECK_DONE")
    assert sim.phone.state is DeviceState.LOCKED  # nothing reaches the phone by itself
    sim.advance(DAY)
    assert sim.phone.state is DeviceState.ACTIVATED
    assert sim.phone.lock_reason == "RELEASED"


def test_an_investigation_hold_by_imei_and_a_bulk_release(sim: Simulation) -> None:
    activated_with(sim, "Telekom")
    assert sim.admin is not None
    sim.admin.lock(sim.phone.identity.imeis[1], reason="investigation")
    sim.advance(DAY)
    assert sim.phone.state is DeviceState.LOCKED and sim.phone.lock_reason == "INVESTIGATION_HOLD"
    released = sim.admin.release_all(reason="INVESTIGATION_CLOSED")
    assert sim.phone.identity.serial in released.released
    sim.advance(DAY)
    assert sim.phone.state is DeviceState.ACTIVATED


def test_reboot_and_factory_reset_keep_the_vendors_decision(sim: Simulation) -> None:
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


def test_custom_rom_never_locks(make_sim: Callable[..., Simulation]) -> None:
    sim = make_sim(PhoneSpec(bootloader_unlocked=True, custom_rom=True))
    sim.phone.power_on()
    sim.phone.finish_boot()
    sim.phone.insert_sim(1, Sim.of(carrier("Cubacel")))
    sim.phone.finish_setup_without_vendor()
    sim.advance(30 * DAY)
    assert sim.phone.state is DeviceState.ACTIVATED and sim.phone.exchanges == []


@pytest.mark.slow
async def test_one_person_plays_the_whole_story_in_the_app(sim: Simulation) -> None:
    app = make_app(sim, pace=Pace.instant())
    async with app.run_test(size=(140, 45)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SetupScreen))
        sim.phone.insert_sim(1, Sim.of(carrier("Cubacel")))
        await pilot.press("enter", "enter", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen) and app.screen.ready)
        # The operator's console: the phone is in the fleet, flagged, lock pending.
        await pilot.press("v")
        await wait_until(pilot, lambda: isinstance(app.screen, VendorConsoleScreen))
        console = app.screen
        fleet = console.query_one("#fleet", DataTable)
        await wait_until(pilot, lambda: fleet.row_count == 1)
        assert fleet.get_row_at(0)[3] == "flagged"
        # Three days later the lock lands at the phone's check-in; the console shows it live.
        await pilot.press("a")
        await wait_until(pilot, lambda: fleet.row_count == 1 and fleet.get_row_at(0)[3] == "locked")
        audit = console.query_one("#audit", DataTable)
        await wait_until(pilot, lambda: audit.row_count >= 4)
        assert sim.phone.state is DeviceState.LOCKED
        # Release it, go back to the phone: still locked until it contacts the vendor.
        await pilot.press("u")
        await wait_until(pilot, lambda: fleet.get_row_at(0)[3] == "released")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
        await pilot.press("ctrl+r")  # Retry: the phone checks in and the release reaches it
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert sim.phone.lock_reason == "RELEASED"
