"""Expiry is judged on a clock that setting the machine's wall clock cannot wind back.

The phone runs on a :class:`SimulatedClock` (a world always gives it one): it
reads ``time.monotonic`` and only ever moves forward. These tests replace the wall clock
(``time.time``) and the monotonic clock with fakes to show which one the phone believes.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.device.exchange import Exchange
from phone_sim.device.phone import Phone
from phone_sim.device.provisioning import provision
from phone_sim.device.state import DeviceState
from phone_sim.protocol.clock import SimulatedClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.keys import public_key_pem
from phone_sim.protocol.messages import Verdict, VerdictStatus

START = 1630497600.0
DAY = 86400.0


class FakeTime:
    """Stands in for the ``time`` module's two clocks; tests move each one by hand."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.wall = START
        self.mono = 1000.0
        monkeypatch.setattr(time, "time", lambda: self.wall)
        monkeypatch.setattr(time, "monotonic", lambda: self.mono)


def test_simulated_time_follows_the_monotonic_clock_not_the_wall_clock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeTime(monkeypatch)
    clock = SimulatedClock(START, speed=1.0)

    fake.wall -= 30 * DAY  # the user sets the phone's date back a month
    assert clock.now() == START
    fake.wall = 0.0  # ... or to 1970
    assert clock.now() == START

    fake.mono += 90.0  # real time passes
    assert clock.now() == START + 90.0
    fake.wall += 365 * DAY
    assert clock.now() == START + 90.0


def test_simulated_time_never_steps_back(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTime(monkeypatch)
    clock = SimulatedClock(START, speed=1.0)
    fake.mono += 50.0
    assert clock.now() == START + 50.0
    fake.mono -= 40.0  # even a misbehaving monotonic source cannot make it go back
    assert clock.now() == START + 50.0
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1.0)


def test_an_expired_verdict_stays_expired_when_the_wall_clock_is_set_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeTime(monkeypatch)
    vendor = ed25519.Ed25519PrivateKey.generate().public_key()
    storage = provision(
        tmp_path / "phone", Factory.create(), public_key_pem(vendor), rng=random.Random(3)
    )
    clock = SimulatedClock(START, speed=1.0)
    phone = Phone.load(storage, clock=clock, rng=random.Random(4))
    phone.power_on()
    phone.finish_boot()
    attempt = phone.begin_activation()
    # The vendor's answer is valid for a minute; a man in the middle holds it back for two...
    verdict = Verdict(
        device_serial=phone.identity.serial,
        imei=phone.identity.imeis[0],
        status=VerdictStatus.ACTIVATED,
        reason="ACTIVATION_OK",
        message="Your device has been activated.",
        nonce=attempt.nonce,
        issued_at=int(START),
        expires_at=int(START) + 60,
        sequence=1,
        policy_version="test",
    )
    fake.mono += 120.0
    # ... and the user sets the wall clock back a day before it arrives.
    fake.wall = START - DAY
    exchange = Exchange(
        kind=attempt.kind,
        url="http://vendor.invalid/v1/activation",
        request_headers={},
        request_body=attempt.request.encode(),
        sent_at=START,
        status=200,
        response_body=verdict.encode(),
        verdict=verdict,
        signature="valid",
    )
    outcome = phone.complete_activation(attempt, exchange)
    assert not outcome.accepted and "expired" in outcome.detail
    assert phone.state is DeviceState.SETUP and phone.persisted.last_sequence == 0
    assert (phone.last_error or "").startswith("Activation server error")
