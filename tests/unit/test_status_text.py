"""The status bar as plain text, for headless drivers: slots, roaming, time, failures, speed."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.device.phone import Phone
from phone_sim.device.provisioning import provision
from phone_sim.device.sims import Sim, carrier
from phone_sim.device.status import status_text
from phone_sim.protocol.clock import FixedClock, SimulatedClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.keys import public_key_pem

START = 1630497600.0


def make_phone(tmp_path: Path, clock: SimulatedClock) -> Phone:
    vendor = ed25519.Ed25519PrivateKey.generate().public_key()
    storage = provision(
        tmp_path / "phone", Factory.create(), public_key_pem(vendor), rng=random.Random(3)
    )
    phone = Phone.load(storage, clock=clock, rng=random.Random(1))
    phone.power_on()
    phone.finish_boot()
    return phone


@pytest.fixture
def phone(tmp_path: Path) -> Phone:
    return make_phone(tmp_path, FixedClock(START))


def test_slots_date_battery_and_a_frozen_clock(phone: Phone) -> None:
    assert status_text(phone) == "1:no SIM  2:no SIM  01 Sep 2021 12:00  ▮87%  ⏸"


def test_a_roaming_sim_an_airplane_and_a_failed_checkin(phone: Phone) -> None:
    phone.insert_sim(2, Sim.of(carrier("Telekom")))
    phone.roam(2, carrier("Cubacel"))
    assert "2:Cubacel ▂▄▆█ R  " in status_text(phone)
    phone.set_airplane(True)
    assert status_text(phone).startswith("1:no SIM  2:Telekom ▂▄▆█  ✈ 01 Sep")
    phone.schedule.failed(START, "unreachable")
    assert "▮87%  ⚠ 12:0" in status_text(phone)


def test_a_fast_clock_shows_its_speed(tmp_path: Path) -> None:
    phone = make_phone(tmp_path, SimulatedClock(START, speed=3600))
    assert status_text(phone).endswith("▮87%  ▶x3600")
