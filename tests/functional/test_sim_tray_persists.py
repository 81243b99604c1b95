"""The SIM tray survives a restart, as the lock and the clock do (issue #15)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from phone_sim.device.errors import CorruptStateError
from phone_sim.device.sims import Sim, carrier
from phone_sim.ui.app import Pace, make_app
from phone_sim.ui.screens.setup_screen import SetupScreen
from tests.support.one_phone import OnePhoneWorld
from tests.support.waits import on_screen, wait_until


def test_sims_and_roaming_survive_a_restart(make_sim: Callable[..., OnePhoneWorld]) -> None:
    sim = make_sim()
    sim.phone.power_on()
    sim.phone.finish_boot()
    sim.phone.insert_sim(1, Sim.of(carrier("Telekom")))
    sim.phone.insert_sim(2, Sim.of(carrier("Cubacel"), card=2))
    sim.phone.roam(1, carrier("Cubacel"))  # a German tourist in Cuba
    sim.phone.swap_sims()
    sim.close()
    again = make_sim()  # a new process on the same data directory
    again.phone.power_on()
    again.phone.finish_boot()
    one, two = again.phone.slots
    assert one.sim == Sim.of(carrier("Cubacel"), card=2) and not one.roaming
    assert two.sim == Sim.of(carrier("Telekom"))
    assert two.serving == carrier("Cubacel") and two.roaming


def test_a_removed_sim_stays_removed(make_sim: Callable[..., OnePhoneWorld]) -> None:
    sim = make_sim()
    sim.phone.insert_sim(1, Sim.of(carrier("Telekom")))
    sim.phone.remove_sim(1)
    sim.close()
    assert make_sim().phone.slot(1).sim is None


def test_a_new_phone_has_an_empty_tray(make_sim: Callable[..., OnePhoneWorld]) -> None:
    sim = make_sim()
    sim.phone.insert_sim(1, Sim.of(carrier("Telekom")))
    sim.close()
    assert make_sim(new_phone=True).phone.slot(1).sim is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "Expecting property name"),
        (b'{"version": 1, "slots": {"1": null}}', "exactly the slots 1, 2"),
        (
            b'{"version": 1, "slots": {"1": {"sim": {"iccid": "x"}, "roaming_on": null}, "2": null}}',
            "imsi must be a non-empty string",
        ),
    ],
)
def test_a_corrupt_tray_is_reported_not_emptied(
    make_sim: Callable[..., OnePhoneWorld], content: bytes, reason: str
) -> None:
    sim = make_sim()
    sim.phone.insert_sim(1, Sim.of(carrier("Telekom")))
    sim.close()
    path = sim.data_dir / "phone" / "sims.json"
    path.write_bytes(content)
    with pytest.raises(CorruptStateError) as raised:
        make_sim()
    assert str(path) in str(raised.value) and reason in str(raised.value)
    assert path.read_bytes() == content  # left as it was, for the user to look at


def test_the_file_says_what_is_in_the_tray(make_sim: Callable[..., OnePhoneWorld]) -> None:
    sim = make_sim()
    sim.phone.insert_sim(2, Sim.of(carrier("Telekom")))
    sim.phone.roam(2, carrier("Cubacel"))
    data = json.loads((sim.data_dir / "phone" / "sims.json").read_bytes())
    assert data["slots"]["1"] is None
    assert data["slots"]["2"]["sim"]["home"]["mcc"] == "262"
    assert data["slots"]["2"]["roaming_on"]["name"] == "Cubacel"


async def test_the_app_shows_the_kept_sims_after_a_restart(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    sim = make_sim()
    app = make_app(sim.world, pace=Pace.instant())
    async with app.run_test(size=(80, 24)) as pilot:
        await on_screen(pilot, SetupScreen)
        await pilot.press("t")  # SIM tray; the carriers list has the focus
        await pilot.press(*["down"] * 6, "enter")  # Cubacel, the 7th carrier
        await wait_until(pilot, lambda: sim.phone.slot(1).sim is not None)
        await pilot.press("escape")
    sim.close()
    again = make_sim()
    app = make_app(again.world, pace=Pace.instant())
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: isinstance(app.screen, SetupScreen) and app.screen.ready)
        await pilot.pause(0.2)
        assert "1:Cubacel" in str(app.screen.query_one("StatusBar").render())
