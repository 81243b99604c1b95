"""On the model: the back-off over very long outages, the warning as observable state, and what
the phone does once its last verdict has expired (PROTOCOL.md section 8.1).

The same rules through the real vendor server are in ``tests/functional/test_offline_expiry_server.py``.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from phone_sim.device.offline import WarningKind
from phone_sim.device.phone import Phone
from phone_sim.device.schedule import MAX_BACKOFF, CheckinSchedule
from phone_sim.device.state import DeviceState
from phone_sim.device.status import status_text
from phone_sim.device.storage import PersistedState
from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from tests.unit.test_checkin_model import activated, make_phone
from tests.unit.test_phone_model import START, answer, verdict_for

DAY, HOUR = 86400, 3600
WEEK = 7 * DAY


@pytest.fixture(scope="module")
def factory() -> Factory:
    return Factory.create()


def fail_checkin(phone: Phone) -> None:
    """One check-in that gets no verdict (the vendor unreachable)."""
    attempt = phone.begin_activation()
    assert not phone.complete_activation(attempt, answer(attempt, None)).accepted


def run_until(phone: Phone, clock: FixedClock, end: float) -> int:
    """Let time pass to ``end`` as the simulation does, failing every check-in; count them."""
    failures = 0
    while clock.now() < end:
        phone.tick()
        if phone.checkin_due() is not None:
            fail_checkin(phone)
            failures += 1
            continue
        next_at = phone.schedule.next_at
        step_to = next_at if next_at is not None and clock.now() < next_at <= end else end
        clock.advance(max(step_to - clock.now(), 0.0))
    phone.tick()
    return failures


# --- the back-off -------------------------------------------------------------------------------


def test_ten_thousand_failures_in_a_row_back_off_within_the_bound() -> None:
    # 2.0 ** (failures - 1) overflowed at the 1,025th failure (OverflowError).
    schedule = CheckinSchedule(rng=random.Random(2))
    delays = [schedule.failed(1000.0, "unreachable") for _ in range(10_000)]
    assert schedule.failures == 10_000
    assert all(MAX_BACKOFF / 2 <= d <= MAX_BACKOFF for d in delays[20:])
    assert schedule.next_at is not None and schedule.next_at <= 1000.0 + MAX_BACKOFF


def test_a_phone_fails_ten_thousand_check_ins_in_a_row_and_keeps_its_state(
    tmp_path: Path, factory: Factory
) -> None:
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    activated(phone, expires_at=int(START) + 10 * 365 * DAY)
    phone.retry()
    for _ in range(10_000):
        fail_checkin(phone)
        assert phone.schedule.next_at is not None
        clock.advance(phone.schedule.next_at - clock.now())
    assert phone.schedule.failures == 10_000
    assert phone.state is DeviceState.ACTIVATED and phone.warning is None


def test_six_months_without_the_vendor(tmp_path: Path, factory: Factory) -> None:
    # A one-hour ceiling puts ~5,800 failures into six months, well past the old overflow.
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    phone.schedule.max_backoff = HOUR
    activated(phone, expires_at=int(START) + WEEK)
    failures = run_until(phone, clock, START + 183 * DAY)
    assert failures > 1025
    # No offline rule: still activated, warning that it could not confirm, and still trying.
    assert phone.state is DeviceState.ACTIVATED
    assert phone.warning is not None and phone.warning.kind is WarningKind.UNCONFIRMED
    assert phone.schedule.next_at is not None
    assert phone.schedule.next_at - clock.now() <= HOUR


# --- the warning as state -----------------------------------------------------------------------


def test_the_offline_warning_is_state_the_status_bar_shows(
    tmp_path: Path, factory: Factory
) -> None:
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    activated(
        phone, offline_lock_after=5 * DAY, offline_warning_before=DAY, expires_at=int(START) + WEEK
    )
    clock.advance(4 * DAY - 1)
    phone.tick()
    assert phone.warning is None and "⚠" not in status_text(phone)
    clock.advance(1)
    phone.tick()
    assert phone.warning is not None and phone.warning.kind is WarningKind.OFFLINE_LOCK
    assert phone.warning.lock_at == START + 5 * DAY
    assert "⚠ locks 06 Sep 12:00" in status_text(phone)
    # A fresh verdict ends it.
    phone.retry()
    activated(
        phone, offline_lock_after=5 * DAY, offline_warning_before=DAY, expires_at=int(START) + WEEK
    )
    assert phone.warning is None and "⚠" not in status_text(phone)


def test_no_warning_is_shown_when_the_rule_asks_for_none(tmp_path: Path, factory: Factory) -> None:
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    activated(phone, offline_lock_after=5 * DAY, expires_at=int(START) + WEEK)
    clock.advance(5 * DAY - 1)
    phone.tick()
    assert phone.warning is None and phone.state is DeviceState.ACTIVATED


# --- an expired verdict -------------------------------------------------------------------------


def test_an_expired_verdict_with_an_offline_rule_locks_once_the_vendor_is_unreachable(
    tmp_path: Path, factory: Factory
) -> None:
    # A flagged phone (activated, lock pending) whose vendor is blocked; the rule says 30 days,
    # the verdict expires after 7: it locks at the expiry, not after 30 days.
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    activated(
        phone,
        offline_lock_after=30 * DAY,
        offline_warning_before=3 * DAY,
        expires_at=int(START) + WEEK,
    )
    clock.advance(4 * DAY)  # 3 days before the expiry: the warning names the expiry
    phone.tick()
    assert phone.warning is not None and phone.warning.lock_at == START + WEEK
    clock.advance(3 * DAY)
    phone.tick()
    # Expired: the phone asks the vendor once before it locks.
    assert phone.state is DeviceState.ACTIVATED
    assert phone.checkin_due() == "verdict expired"
    fail_checkin(phone)
    phone.tick()
    assert phone.state is DeviceState.LOCKED and phone.lock_reason == "OFFLINE_TOO_LONG"
    assert "since its activation expired on 08 Sep 2021 12:00 UTC" in phone.lock_message
    assert phone.warning is None
    # The vendor reachable again: a fresh verdict decides.
    clock.advance(phone.schedule.next_at - clock.now())  # type: ignore[operator]
    attempt = phone.begin_activation()
    ok = verdict_for(phone, attempt, status="activated", reason="ACTIVATION_OK")
    assert phone.complete_activation(attempt, answer(attempt, ok)).accepted
    assert phone.state is DeviceState.ACTIVATED


def test_an_expired_verdict_is_no_reason_to_lock_when_the_vendor_answers(
    tmp_path: Path, factory: Factory
) -> None:
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    activated(
        phone,
        offline_lock_after=30 * DAY,
        expires_at=int(START) + WEEK,
        next_checkin_after=10 * DAY,
    )
    clock.advance(WEEK)
    phone.tick()
    assert phone.checkin_due() == "verdict expired"
    attempt = phone.begin_activation()
    ok = verdict_for(phone, attempt, status="activated", reason="ACTIVATION_OK")
    assert phone.complete_activation(attempt, answer(attempt, ok)).accepted
    phone.tick()
    assert phone.state is DeviceState.ACTIVATED and phone.warning is None


def test_an_expired_verdict_without_an_offline_rule_keeps_the_state_and_warns(
    tmp_path: Path, factory: Factory
) -> None:
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    activated(phone, expires_at=int(START) + WEEK)
    run_until(phone, clock, START + WEEK - 1)
    assert phone.warning is None  # failing, but the verdict still holds
    run_until(phone, clock, START + 30 * DAY)
    assert phone.state is DeviceState.ACTIVATED
    assert phone.warning is not None and phone.warning.kind is WarningKind.UNCONFIRMED
    assert "could not be confirmed since 08 Sep 2021 12:00 UTC" in phone.warning.text
    assert "⚠ unconfirmed" in status_text(phone)
    assert phone.schedule.next_at is not None  # and it keeps trying


def test_a_locked_phone_stays_locked_when_its_verdict_expires(
    tmp_path: Path, factory: Factory
) -> None:
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    attempt = phone.begin_activation()
    locked = verdict_for(phone, attempt, offline_lock_after=5 * DAY, expires_at=int(START) + WEEK)
    assert phone.complete_activation(attempt, answer(attempt, locked)).accepted
    run_until(phone, clock, START + 60 * DAY)
    assert phone.state is DeviceState.LOCKED and phone.lock_reason == "EMBARGOED_TERRITORY"
    assert phone.warning is None


def test_the_expiry_survives_a_restart_and_old_state_files_recover_it(
    tmp_path: Path, factory: Factory
) -> None:
    clock = FixedClock(START)
    phone = make_phone(tmp_path, factory, clock)
    activated(phone, offline_lock_after=30 * DAY, expires_at=int(START) + WEEK)
    assert phone.storage is not None
    assert phone.storage.load_state().verdict_expires_at == int(START) + WEEK
    # A state file written before the expiry was kept: it is read from the stored verdict.
    data = json.loads(phone.storage.state_path.read_bytes())
    del data["verdict_expires_at"]
    assert PersistedState.from_json(json.dumps(data).encode()).verdict_expires_at == START + WEEK
