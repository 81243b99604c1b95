"""The device model's unblock code (version 2): a locked phone's challenge, and the code for it.

The code is made alike on both sides and unlocks its phone and challenge once, within the
attempt limits, whatever the clock or a factory reset does. The phone and the vendor's side:
``tests/support/recovery_phone.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phone_sim.device.errors import TransitionRefused
from phone_sim.device.phone import Phone
from phone_sim.device.state import Activation, DeviceState
from phone_sim.device.unblock import PER_DAY, UNBLOCKED_REASON, UNTIL_CONTACT
from phone_sim.protocol.device_secret import (
    DeviceSecret,
    unblock_code,
)
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.messages import AccountStatus, VerdictStatus
from tests.support.recovery_phone import (  # noqa: F401  (the fixtures factory, time, phone)
    AGREEMENT,
    AGREEMENT_KEY,
    DAY,
    START,
    WorldTime,
    factory_fixture,
    lock,
    make_phone,
    phone_fixture,
    time_fixture,
    vendor_code,
)

# --- the code ---------------------------------------------------------------------------------


def test_the_code_is_made_alike_on_both_sides_and_for_one_device_challenge_and_purpose(
    tmp_path: Path, factory: Factory, time: WorldTime
) -> None:
    one = make_phone(tmp_path, factory, "one", time, 1)
    two = make_phone(tmp_path, factory, "two", time, 2)
    key_one = one.storage.load_key()  # type: ignore[union-attr]
    on_phone = DeviceSecret.on_phone(key_one, AGREEMENT_KEY, one.identity.serial)
    at_vendor = DeviceSecret.at_vendor(AGREEMENT, key_one.public_key(), one.identity.serial)
    assert on_phone == at_vendor
    code = unblock_code(on_phone, "12345678")
    assert len(code) == 8 and code.isdigit()
    assert unblock_code(on_phone, "12345679") != code  # another challenge
    assert vendor_code(two, "12345678") != code  # another phone's key
    # The same key under another serial (the serial is in the HKDF info and the MAC) differs.
    other = DeviceSecret.at_vendor(AGREEMENT, key_one.public_key(), two.identity.serial)
    assert unblock_code(other, "12345678") != code
    with pytest.raises(ValueError, match="8 digits"):
        unblock_code(on_phone, "1234")


def test_a_locked_phone_shows_a_challenge_and_keeps_it_across_a_reboot(phone: Phone) -> None:
    lock(phone)
    challenge = phone.unblock_challenge
    assert challenge is not None and len(challenge) == 8 and challenge.isdigit()
    phone.reboot()
    phone.finish_boot()
    assert phone.state is DeviceState.LOCKED
    assert phone.unblock_challenge == challenge
    assert phone.unblock_attempts_left() == PER_DAY


def test_the_right_code_unlocks_until_the_vendor_decides_again(phone: Phone) -> None:
    lock(phone, offline_lock_after=5 * DAY)
    code = vendor_code(phone, phone.unblock_challenge or "")
    outcome = phone.enter_unblock_code(f"{code[:4]} {code[4:]}")  # as read out, with a space
    assert outcome.unlocked
    assert phone.state is DeviceState.ACTIVATED
    assert (phone.activation, phone.lock_reason) == (Activation.ACTIVATED, UNBLOCKED_REASON)
    # It asks the vendor at once; the offline rule counts from the unblock, not the old verdict.
    assert phone.checkin_due() is not None
    assert phone.persisted.verdict_at == START and phone.persisted.verdict_expires_at is None
    # The next verdict decides: a lock locks again.
    lock(phone)
    assert phone.lock_reason == "EMBARGOED_TERRITORY"


def test_a_code_is_good_for_its_challenge_once(phone: Phone, time: WorldTime) -> None:
    lock(phone)
    first = phone.unblock_challenge or ""
    code = vendor_code(phone, first)
    assert phone.enter_unblock_code(code).unlocked
    lock(phone)
    assert phone.unblock_challenge not in (None, first)  # a new lock, a new challenge
    assert not phone.enter_unblock_code(code).unlocked  # the old code is spent
    assert phone.state is DeviceState.LOCKED


def test_a_code_made_for_another_phone_does_not_unlock_this_one(
    tmp_path: Path, factory: Factory, time: WorldTime, phone: Phone
) -> None:
    other = make_phone(tmp_path, factory, "other", time, 99)
    lock(phone)
    challenge = phone.unblock_challenge or ""
    outcome = phone.enter_unblock_code(vendor_code(other, challenge))
    assert not outcome.unlocked and phone.state is DeviceState.LOCKED
    assert outcome.attempts_left == PER_DAY - 1


def test_five_wrong_codes_a_day_then_none_until_the_day_has_passed(
    phone: Phone, time: WorldTime
) -> None:
    lock(phone)
    right = vendor_code(phone, phone.unblock_challenge or "")
    wrong = f"{(int(right) + 1) % 10**8:08d}"
    for left in range(PER_DAY - 1, -1, -1):
        assert phone.enter_unblock_code(wrong).attempts_left == left
    refused = phone.enter_unblock_code(right)  # even the right code: no attempt is left
    assert not refused.unlocked and "5 wrong codes in 24 hours" in refused.detail
    time.t += DAY - 60
    assert phone.unblock_attempts_left() == 0
    time.t += 61
    assert phone.enter_unblock_code(right).unlocked


def test_a_typing_slip_costs_no_attempt(phone: Phone) -> None:
    lock(phone)
    outcome = phone.enter_unblock_code("1234")
    assert (outcome.unlocked, outcome.attempts_left) == (False, PER_DAY)
    assert "8 digits" in outcome.detail


def test_moving_the_clock_back_frees_no_attempt(phone: Phone, time: WorldTime) -> None:
    lock(phone)  # its verdict's time is the phone's floor: its clock never reads earlier
    floor = phone.clock.floor
    right = vendor_code(phone, phone.unblock_challenge or "")
    wrong = f"{(int(right) + 1) % 10**8:08d}"
    time.t += 2 * DAY  # two days later, still offline
    for _ in range(PER_DAY):
        phone.enter_unblock_code(wrong)
    time.t -= 10 * DAY  # the world's time set back ten days: the phone stops at its floor ...
    assert phone.clock.now() == floor == START
    # ... so its failures lie two days in its future, and they count all the same.
    assert phone.unblock_attempts_left() == 0
    assert not phone.enter_unblock_code(right).unlocked
    time.t = START + 3 * DAY + 1  # a day after the failures: one day's attempts again
    assert phone.enter_unblock_code(right).unlocked


def test_moving_the_clock_forward_gives_a_day_but_never_more_than_20_until_contact(
    phone: Phone, time: WorldTime
) -> None:
    lock(phone)
    right = vendor_code(phone, phone.unblock_challenge or "")
    wrong = f"{(int(right) + 1) % 10**8:08d}"
    tried = 0
    for _day in range(10):  # ten days pass (or the clock is pushed on ten days)
        while phone.enter_unblock_code(wrong).detail.startswith("wrong"):
            tried += 1
        time.t += DAY
    assert tried == UNTIL_CONTACT  # not 10 x 5
    refused = phone.enter_unblock_code(right)
    assert not refused.unlocked and "since this phone last reached its vendor" in refused.detail
    # A verdict from the vendor (still locked) is contact: the day's attempts come back.
    lock(phone)
    assert phone.unblock_attempts_left() == PER_DAY
    assert phone.enter_unblock_code(right).unlocked


def test_a_factory_reset_keeps_the_counts(phone: Phone) -> None:
    lock(phone)
    right = vendor_code(phone, phone.unblock_challenge or "")
    wrong = f"{(int(right) + 1) % 10**8:08d}"
    for _ in range(PER_DAY):
        phone.enter_unblock_code(wrong)
    phone.factory_reset()
    phone.finish_boot()
    assert phone.unblock.challenge is None  # the challenge went with the data
    assert phone.unblock.failures and phone.unblock_attempts_left() == 0
    stored = json.loads(phone.storage.unblock_path.read_bytes())  # type: ignore[union-attr]
    assert len(stored["failures"]) == PER_DAY


def test_locks_that_take_no_code(phone: Phone) -> None:
    # A version 1 verdict gives the phone no agreement key: no challenge, no code box.
    lock(phone, protocol=1, agreement_key=None)
    assert phone.unblock_challenge is None
    with pytest.raises(TransitionRefused, match="no key from its vendor"):
        phone.enter_unblock_code("12345678")
    # An account lock is lifted by the account's password.
    lock(
        phone,
        reason="ACCOUNT_LOCKED",
        account=AccountStatus(hint="a***@example.com", find_device=True, locked=True),
    )
    assert phone.unblock_challenge is None
    with pytest.raises(TransitionRefused, match="password"):
        phone.enter_unblock_code("12345678")


def test_an_activated_phone_takes_no_code(phone: Phone) -> None:
    lock(phone, status=VerdictStatus.ACTIVATED, reason="ACTIVATION_OK")
    with pytest.raises(TransitionRefused, match="cannot enter an unblock code while activated"):
        phone.enter_unblock_code("12345678")
