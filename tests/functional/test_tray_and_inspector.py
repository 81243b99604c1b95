"""The SIM tray and the protocol inspector, driven with keys as a user would."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, OptionList

from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import DeviceState
from phone_sim.ui.app import Pace, make_app
from phone_sim.ui.screens.home_screen import HomeScreen
from phone_sim.ui.screens.inspector_screen import InspectorScreen
from phone_sim.ui.screens.lock_screen import LockScreen
from phone_sim.ui.screens.setup_screen import SetupScreen
from phone_sim.ui.screens.sim_tray_screen import SimTrayScreen
from tests.functional.conftest import on_screen, wait_until
from tests.support.navigate import press_from
from tests.support.one_phone import OnePhoneWorld

SIZE = (100, 42)


@pytest.mark.slow
async def test_tray_inserts_swaps_removes_and_takes_custom_codes(sim: OnePhoneWorld) -> None:
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await press_from(pilot, SetupScreen, "t", SimTrayScreen)
        # carrier list has focus; the 7th entry is Cubacel; Enter inserts into slot 1
        await pilot.press(*["down"] * 6, "enter")
        assert sim.phone.slot(1).sim is not None and sim.phone.slot(1).sim.label == "Cubacel"
        await pilot.press("2", "down", "enter")  # slot 2, next carrier down: MCI (Iran)
        assert sim.phone.slot(2).sim is not None and sim.phone.slot(2).sim.label == "MCI"
        await pilot.press("s")
        assert [v.sim.label for v in sim.phone.slots if v.sim] == ["MCI", "Cubacel"]
        await pilot.press("x")  # remove from the selected slot (2)
        assert sim.phone.slot(2).sim is None
        tray = app.screen
        tray.query_one("#mcc", Input).value = "262"
        tray.query_one("#mnc", Input).value = "02"
        tray.query_one("#mnc", Input).focus()
        await pilot.press("enter")
        slot2 = sim.phone.slot(2).sim
        assert slot2 is not None and slot2.label == "Vodafone" and slot2.home.code == "262-02"
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SetupScreen))


async def test_tray_rejects_a_bad_custom_code_and_keeps_the_slot(sim: OnePhoneWorld) -> None:
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await press_from(pilot, SetupScreen, "t", SimTrayScreen)
        tray = app.screen
        tray.query_one("#mcc", Input).value = "12"
        tray.query_one("#mnc", Input).value = "1"
        tray.query_one("#mnc", Input).focus()
        await pilot.press("enter")
        assert sim.phone.slot(1).sim is None
        assert "invalid MCC/MNC" in str(tray.query_one("#tray-status").render())


@pytest.mark.slow
async def test_inspector_lists_each_exchange_with_its_signature_check(sim: OnePhoneWorld) -> None:
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await press_from(pilot, SetupScreen, "t", SimTrayScreen)
        await pilot.press("enter", "escape")  # Telekom, the first carrier
        await pilot.press("enter", "enter", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, InspectorScreen))
        table = app.screen.query_one(DataTable)
        assert table.row_count == 1
        row = table.get_row_at(0)
        assert row[1:4] == ["activation", "200", "valid"] and "activated ACTIVATION_OK #1" in row[4]
        detail = str(app.screen.query_one("#exchange-detail").render())
        assert "Signature-Input: device=" in detail and "signature check: valid" in detail
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen))
        assert sim.phone.state is DeviceState.ACTIVATED


@pytest.mark.slow
async def test_the_palette_offers_phone_commands_and_the_lock_screen_keeps_them_harmless(
    sim: OnePhoneWorld,
) -> None:
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, SetupScreen)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"SIM tray", "Protocol inspector", "Reboot phone"} <= set(titles)
        sim.phone.insert_sim(1, Sim.of(carrier("Sudani")))
        await pilot.press("enter", "enter", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, HomeScreen) and app.screen.ready)
        app.action_advance(3 * 86400)
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))
        await pilot.press("i")
        await wait_until(pilot, lambda: isinstance(app.screen, InspectorScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, LockScreen))


async def test_the_tray_opens_on_the_carrier_of_the_selected_slot(sim: OnePhoneWorld) -> None:
    # Played: Telekom in slot 1, the tray opened again: the highlight was back on the first
    # row, and Up (which wrapped then: test_lists_stop_at_their_ends.py) from there put in the
    # list's last carrier instead.
    sim.phone.insert_sim(1, Sim.of(carrier("Cubacel")))
    sim.phone.insert_sim(2, Sim.of(carrier("Vodafone"), card=2))
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=SIZE) as pilot:
        await press_from(pilot, SetupScreen, "t", SimTrayScreen)
        carriers = app.screen.query_one("#carriers", OptionList)

        def highlighted() -> str | None:
            index = carriers.highlighted
            return None if index is None else carriers.get_option_at_index(index).id

        await wait_until(pilot, lambda: highlighted() == "Cubacel")
        await pilot.press("2")
        await wait_until(pilot, lambda: highlighted() == "Vodafone")
        await pilot.press("x")
        await wait_until(pilot, lambda: sim.phone.slot(2).sim is None)
        await pilot.press("1")
        await wait_until(pilot, lambda: highlighted() == "Cubacel")
        await pilot.press("2")  # an empty slot moves nothing: the highlight stays
        await pilot.pause(0.1)
        assert highlighted() == "Cubacel"
