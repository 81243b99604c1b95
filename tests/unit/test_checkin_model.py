"""Check-in scheduling, back-off, the offline rule, factory reset and custom ROMs, on the model."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.device.errors import TransitionRefused
from phone_sim.device.phone import ActivationAttempt, Phone
from phone_sim.device.provisioning import provision
from phone_sim.device.schedule import MAX_BACKOFF, CheckinSchedule
from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import Activation, DeviceState
from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.keys import public_key_pem
from tests.unit.test_phone_model import START, answer, verdict_for

DAY = 86400


@pytest.fixture(scope="module")
def factory() -> Factory:
    return Factory.create()


def make_phone(tmp_path: Path, factory: Factory, clock: FixedClock, **kwargs: object) -> Phone:
    vendor = ed25519.Ed25519PrivateKey.generate().public_key()
    storage = provision(
        tmp_path / "p", factory, public_key_pem(vendor), rng=random.Random(3), **kwargs
    )  # type: ignore[arg-type]
    phone = Phone.load(storage, clock=clock, rng=random.Random(4))
    phone.power_on()
    phone.finish_boot()
    return phone


def activated(phone: Phone, **verdict: object) -> ActivationAttempt:
    attempt = phone.begin_activation()
    fields: dict[str, object] = {"status": "activated", "reason": "ACTIVATION_OK"}
    fields.update(verdict)
    assert phone.complete_activation(
        attempt, answer(attempt, verdict_for(phone, attempt, **fields))
    ).accepted
    return attempt


def test_schedule_follows_the_vendor_interval_and_triggers(
    tmp_path: Path, factory: Factory
) -> None:
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    assert phone.checkin_due() is None  # setup: nothing to check in yet
    activated(phone, next_checkin_after=6 * 3600)
    assert phone.checkin_due() is None
    clock.advance(6 * 3600 - 1)
    assert phone.checkin_due() is None
    clock.advance(1)
    assert phone.checkin_due() == "schedule"
    attempt = phone.begin_activation()
    assert attempt.kind == "checkin"
    assert phone.checkin_due() is None  # one in flight
    phone.complete_activation(
        attempt,
        answer(attempt, verdict_for(phone, attempt, status="activated", reason="ACTIVATION_OK")),
    )
    # no next_checkin_after: the default day
    assert phone.schedule.next_at == clock.now() + DAY
    phone.insert_sim(1, Sim.of(carrier("Telekom")))
    assert phone.checkin_due() == "SIM change"


@pytest.mark.parametrize("trigger", ["reboot", "network regained", "user retry"])
def test_other_checkin_triggers(tmp_path: Path, factory: Factory, trigger: str) -> None:
    phone = make_phone(tmp_path, factory, FixedClock(START))
    activated(phone)
    if trigger == "reboot":
        phone.reboot()
        phone.finish_boot()
    elif trigger == "network regained":
        phone.set_airplane(True)
        assert phone.checkin_due() is None
        phone.set_airplane(False)
    else:
        phone.retry()
    assert phone.checkin_due() == trigger


def test_failed_checkins_back_off_bounded_and_jittered() -> None:
    schedule = CheckinSchedule(rng=random.Random(1))
    delays = [schedule.failed(1000.0, "unreachable") for _ in range(20)]
    assert all(0 < d <= MAX_BACKOFF for d in delays)
    assert delays[0] <= 60 and delays[5] > delays[0]  # grows
    assert max(delays) > MAX_BACKOFF / 2  # reaches the bound's range
    assert len({round(d, 3) for d in delays[-5:]}) == 5  # jittered, not lock-step
    schedule.succeeded(2000.0, None)
    assert schedule.failures == 0 and schedule.next_at == 2000.0 + 86400


def test_failed_checkin_keeps_state_and_schedules_a_retry(tmp_path: Path, factory: Factory) -> None:
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    activated(phone)
    phone.retry()
    attempt = phone.begin_activation()
    assert not phone.complete_activation(attempt, answer(attempt, None)).accepted
    assert phone.state is DeviceState.ACTIVATED
    assert phone.schedule.failures == 1 and phone.checkin_due() is None
    clock.advance(61)
    assert phone.checkin_due() == "user retry"


def test_locked_phone_keeps_checking_in_and_a_release_unlocks_it(
    tmp_path: Path, factory: Factory
) -> None:
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    notices: list[str] = []
    phone.subscribe(lambda e: notices.append(e.detail) if e.kind == "notice" else None)
    attempt = phone.begin_activation()
    phone.complete_activation(attempt, answer(attempt, verdict_for(phone, attempt)))
    assert phone.state is DeviceState.LOCKED
    clock.advance(DAY)
    assert phone.checkin_due() == "schedule"
    attempt = phone.begin_activation()
    release = verdict_for(
        phone,
        attempt,
        status="activated",
        reason="RELEASED",
        message="Your device can now be used.",
    )
    assert phone.complete_activation(attempt, answer(attempt, release)).accepted
    assert phone.state is DeviceState.ACTIVATED and notices == ["Your device can now be used."]


def test_offline_rule_warns_then_locks_and_a_fresh_verdict_unlocks(
    tmp_path: Path, factory: Factory
) -> None:
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    warnings: list[str] = []
    phone.subscribe(lambda e: warnings.append(e.detail) if e.kind == "warning" else None)
    # The verdict outlives the rule, so only the offline rule is at work here.
    activated(
        phone,
        offline_lock_after=7 * DAY,
        offline_warning_before=2 * DAY,
        expires_at=int(START) + 30 * DAY,
    )
    clock.advance(5 * DAY - 1)
    phone.tick()
    assert warnings == [] and phone.warning is None and phone.state is DeviceState.ACTIVATED
    clock.advance(1)
    phone.tick()
    phone.tick()
    # One warning event, and the warning stands (the status bar and home screen show it).
    assert len(warnings) == 1 and "locks on 08 Sep 2021 12:00 UTC" in warnings[0]
    assert phone.warning is not None and phone.warning.text == warnings[0]
    clock.advance(2 * DAY)
    phone.tick()
    assert phone.state is DeviceState.LOCKED and phone.lock_reason == "OFFLINE_TOO_LONG"
    assert phone.warning is None  # the lock screen says it now
    assert phone.checkin_due() is not None
    attempt = phone.begin_activation()
    ok = verdict_for(phone, attempt, status="activated", reason="ACTIVATION_OK")
    assert phone.complete_activation(attempt, answer(attempt, ok)).accepted
    assert phone.state is DeviceState.ACTIVATED


def test_no_offline_rule_means_no_offline_lock(tmp_path: Path, factory: Factory) -> None:
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    activated(phone)
    clock.advance(365 * DAY)
    phone.tick()
    assert phone.state is DeviceState.ACTIVATED


def test_factory_reset_wipes_local_state_and_returns_to_setup(
    tmp_path: Path, factory: Factory
) -> None:
    phone = make_phone(tmp_path, factory, FixedClock(START))
    attempt = phone.begin_activation()
    phone.complete_activation(attempt, answer(attempt, verdict_for(phone, attempt)))
    assert phone.state is DeviceState.LOCKED
    phone.factory_reset()
    phone.finish_boot()
    assert phone.state is DeviceState.SETUP and phone.activation is Activation.NONE
    assert phone.storage is not None and not phone.storage.state_path.exists()
    assert phone.storage.identity_path.exists()  # the identity is the hardware's


def test_custom_rom_never_asks_the_vendor(tmp_path: Path, factory: Factory) -> None:
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock, bootloader_unlocked=True, custom_rom=True)
    assert phone.identity.custom_rom and "custom ROM" in phone.identity.firmware
    with pytest.raises(TransitionRefused, match="no vendor activation client"):
        phone.begin_activation()
    phone.insert_sim(1, Sim.of(carrier("Cubacel")))
    phone.finish_setup_without_vendor()
    assert phone.state is DeviceState.ACTIVATED
    clock.advance(30 * DAY)
    phone.tick()
    assert phone.checkin_due() is None and phone.state is DeviceState.ACTIVATED


def test_stock_firmware_cannot_skip_activation(tmp_path: Path, factory: Factory) -> None:
    phone = make_phone(tmp_path, factory, FixedClock(START))
    with pytest.raises(TransitionRefused, match="stock firmware"):
        phone.finish_setup_without_vendor()
