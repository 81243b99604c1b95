"""The story on the headless phone: device model + vendor client + real server on loopback."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from phone_sim.device.sims import Network, Sim, carrier
from phone_sim.device.state import DeviceState
from tests.support.one_phone import OnePhoneWorld

DAY = 86400


def activate_with(sim: OnePhoneWorld, *carriers: str) -> OnePhoneWorld:
    sim.phone.power_on()
    sim.phone.finish_boot()
    for slot, name in enumerate(carriers, start=1):
        sim.phone.insert_sim(slot, Sim.of(carrier(name), card=slot))
    outcome = sim.activate()
    assert outcome.accepted, outcome.detail
    return sim


@pytest.mark.parametrize(
    ("carriers", "state"),
    [
        (("Telekom",), DeviceState.ACTIVATED),
        (("Cubacel",), DeviceState.LOCKED),
        (("Irancell",), DeviceState.LOCKED),
        (("MTN Syria",), DeviceState.LOCKED),
        (("Koryolink",), DeviceState.LOCKED),
        (("Sudani",), DeviceState.LOCKED),
        (("Win Mobile",), DeviceState.LOCKED),
        (("Volna",), DeviceState.LOCKED),
        (("Krymtelekom",), DeviceState.LOCKED),
        (("MTS",), DeviceState.ACTIVATED),
        (("Jio",), DeviceState.ACTIVATED),
        (("Telekom", "Cubacel"), DeviceState.LOCKED),  # any slot from an embargoed territory
        ((), DeviceState.ACTIVATED),  # Wi-Fi only: no SIM operator to judge
    ],
)
def test_activation_decisions(
    sim: OnePhoneWorld, carriers: tuple[str, ...], state: DeviceState
) -> None:
    activate_with(sim, *carriers)
    # The story's lock came days later: every phone activates first.
    assert sim.phone.state is DeviceState.ACTIVATED
    sim.advance(3 * DAY - 60)
    assert sim.phone.state is DeviceState.ACTIVATED
    sim.advance(60)
    assert sim.phone.state is state
    verdict = sim.phone.exchanges[-1].verdict
    assert verdict is not None and verdict.device_serial == sim.phone.identity.serial
    assert verdict.reason == (
        "EMBARGOED_TERRITORY" if state is DeviceState.LOCKED else "ACTIVATION_OK"
    )


def test_roaming_serving_network_is_reported(sim: OnePhoneWorld) -> None:
    sim.phone.power_on()
    sim.phone.finish_boot()
    sim.phone.insert_sim(1, Sim.of(carrier("Telekom")))
    sim.phone.roam(1, carrier("Cubacel"))
    attempt = sim.phone.begin_activation()
    sent = attempt.request.sims[0]
    assert (sent.home, sent.serving, sent.roaming) == ("262-01", "368-01", True)
    sim.phone.complete_activation(attempt, sim.client.send(attempt))
    # The default policy judges the SIM's home operator: a German SIM roaming in Cuba activates.
    assert sim.phone.state is DeviceState.ACTIVATED


def test_custom_sim_by_mcc_mnc(sim: OnePhoneWorld) -> None:
    sim.phone.power_on()
    sim.phone.finish_boot()
    sim.phone.insert_sim(1, Sim.custom("368", "99"))  # not in the catalogue, still Cuba's MCC
    assert sim.phone.slot(1).sim is not None
    assert sim.phone.slot(1).sim.home == Network("368-99", "unknown", "368", "99")
    sim.activate()
    sim.advance(3 * DAY)
    assert sim.phone.state is DeviceState.LOCKED


def test_server_unreachable_is_an_error_not_a_crash(make_sim: Callable[..., OnePhoneWorld]) -> None:
    sim = make_sim()
    sim.client.base_url = "http://127.0.0.1:9"  # discard port: nothing listens
    sim.phone.power_on()
    sim.phone.finish_boot()
    outcome = sim.activate()
    assert not outcome.accepted
    assert sim.phone.state is DeviceState.SETUP
    assert sim.phone.exchanges[-1].error_code == "unreachable"
    assert (sim.phone.last_error or "").startswith("Activation server error")
