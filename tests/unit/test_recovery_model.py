"""The device model's way back from a lock (version 2): the unblock code and the account lock.

No sockets: verdicts are made here with the vendor's agreement key (as the vendor derives it
from its verdict key) and handed to the phone as verified answers, as test_phone_model does.
The vendor's side of each code is computed with the vendor's keys only, the phone's with the
phone's: they meet only through the protocol's derivation.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.device.clock import DeviceClock
from phone_sim.device.errors import TransitionRefused
from phone_sim.device.exchange import Exchange
from phone_sim.device.phone import ActivationAttempt, Phone
from phone_sim.device.provisioning import provision
from phone_sim.device.recovery import AccountInputError
from phone_sim.device.state import Activation, DeviceState
from phone_sim.device.unblock import PER_DAY, UNBLOCKED_REASON, UNTIL_CONTACT
from phone_sim.protocol.account import AccountAction, AccountRequest
from phone_sim.protocol.contact import ContactKind
from phone_sim.protocol.device_secret import (
    DeviceSecret,
    UnblockPurpose,
    encode_agreement_key,
    open_password,
    unblock_code,
    vendor_agreement_key,
)
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.keys import public_key_pem
from phone_sim.protocol.messages import AccountStatus, Verdict, VerdictStatus

START = 1630497600.0
DAY = 86400
VENDOR = ed25519.Ed25519PrivateKey.generate()
AGREEMENT = vendor_agreement_key(VENDOR)
AGREEMENT_KEY = encode_agreement_key(AGREEMENT.public_key())


class WorldTime:
    """The world's clock, which a test may move back (a phone's clock never goes below its
    floor of signed time, but nothing stops the world's own time being set back under it)."""

    def __init__(self, now: float) -> None:
        self.t = now

    def now(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def factory() -> Factory:
    return Factory.create()


def make_phone(tmp_path: Path, factory: Factory, name: str, time: WorldTime, seed: int) -> Phone:
    storage = provision(
        tmp_path / name, factory, public_key_pem(VENDOR.public_key()), rng=random.Random(seed)
    )
    return Phone.load(storage, clock=DeviceClock(time, shared=True), rng=random.Random(seed))


@pytest.fixture
def time() -> WorldTime:
    return WorldTime(START)


@pytest.fixture
def phone(tmp_path: Path, factory: Factory, time: WorldTime) -> Phone:
    made = make_phone(tmp_path, factory, "phone", time, 7)
    made.power_on()
    made.finish_boot()
    return made


def verdict_for(phone: Phone, attempt: ActivationAttempt, **changes: object) -> Verdict:
    fields: dict[str, object] = {
        "protocol": 2,
        "device_serial": phone.identity.serial,
        "imei": phone.identity.imeis[0],
        "status": VerdictStatus.LOCKED,
        "reason": "EMBARGOED_TERRITORY",
        "message": "Xiaomi policy does not permit sale or provision of the product",
        "nonce": attempt.nonce,
        "issued_at": int(phone.clock.now()),
        "expires_at": int(phone.clock.now()) + 7 * DAY,
        "sequence": phone.persisted.last_sequence + 1,
        "policy_version": "test",
        "agreement_key": AGREEMENT_KEY,
    }
    fields.update(changes)
    return Verdict.model_validate(fields)


def answered(phone: Phone, attempt: ActivationAttempt, verdict: Verdict | None) -> Exchange:
    """The verified answer (or a refusal: ``verdict`` None) to ``attempt``, handed to the phone."""
    exchange = Exchange(
        kind=attempt.kind,
        url="http://127.0.0.1:1" + attempt.kind.path,
        request_headers={},
        request_body=attempt.request.encode(),
        sent_at=phone.clock.now(),
        status=200 if verdict else 403,
        response_body=b"{}" if verdict is None else verdict.encode(),
        verdict=verdict,
        signature="valid" if verdict else "not checked",
        error=None if verdict else "HTTP 403 password_wrong: wrong password",
        error_code=None if verdict else "server_refused",
        server_code=None if verdict else "password_wrong",
    )
    phone.complete_activation(attempt, exchange)
    return exchange


def lock(phone: Phone, **changes: object) -> None:
    """The vendor's answer (locked unless ``changes`` say otherwise), accepted by the phone."""
    attempt = phone.begin_activation()
    answered(phone, attempt, verdict_for(phone, attempt, **changes))
    locked = changes.get("status", VerdictStatus.LOCKED) is VerdictStatus.LOCKED
    assert phone.state is (DeviceState.LOCKED if locked else DeviceState.ACTIVATED)


def vendor_code(phone: Phone, challenge: str) -> str:
    """The code as the vendor makes it: its agreement key and the device's public key."""
    public = phone.storage.load_key().public_key()  # type: ignore[union-attr]
    secret = DeviceSecret.at_vendor(AGREEMENT, public, phone.identity.serial)
    return unblock_code(secret, challenge, UnblockPurpose.RELEASE)


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


# --- the account lock -------------------------------------------------------------------------

LOCKED = AccountStatus(hint="a***@example.com", find_device=True, locked=True)


def account_locked(phone: Phone) -> None:
    attempt = phone.begin_activation()
    answered(phone, attempt, verdict_for(phone, attempt, reason="ACCOUNT_LOCKED", account=LOCKED))


def test_an_account_lock_keeps_the_phone_in_setup_across_a_reboot(phone: Phone) -> None:
    account_locked(phone)
    assert phone.state is DeviceState.SETUP and phone.activation is Activation.NONE
    assert phone.account_locked and phone.account.hint == "a***@example.com"
    assert phone.lock_reason == "ACCOUNT_LOCKED"
    phone.reboot()
    phone.finish_boot()
    assert phone.state is DeviceState.SETUP and phone.account_locked
    with pytest.raises(TransitionRefused):
        phone.enter_unblock_code("12345678")


def test_the_password_goes_sealed_for_this_device_and_request_only(phone: Phone) -> None:
    account_locked(phone)
    attempt = phone.begin_account(AccountAction.UNLOCK, " Alice@Example.com ", "correct-horse-9")
    assert phone.state is DeviceState.ACTIVATING and attempt.kind is ContactKind.ACCOUNT
    request = attempt.request
    assert isinstance(request, AccountRequest) and request.protocol == 2
    body = request.encode()
    assert b"correct-horse-9" not in body
    assert request.account.name == "alice@example.com"
    public = phone.storage.load_key().public_key()  # type: ignore[union-attr]
    secret = DeviceSecret.at_vendor(AGREEMENT, public, phone.identity.serial)
    sealed = request.account.password
    assert (
        open_password(
            secret, sealed, action="unlock", account="alice@example.com", nonce=request.nonce
        )
        == "correct-horse-9"
    )
    # Moved into another request, or to another action or account, it does not open.
    for action, account, nonce in (
        ("unlock", "alice@example.com", "another-nonce-0000"),
        ("sign_in", "alice@example.com", request.nonce),
        ("unlock", "bob@example.com", request.nonce),
    ):
        with pytest.raises(Exception, match="does not open"):
            open_password(secret, sealed, action=action, account=account, nonce=nonce)
    # Nothing on the phone's disk holds the password.
    directory = phone.storage.directory  # type: ignore[union-attr]
    assert all(b"correct-horse-9" not in f.read_bytes() for f in directory.iterdir())


def test_a_refused_password_leaves_the_phone_at_the_account_lock(phone: Phone) -> None:
    account_locked(phone)
    attempt = phone.begin_account(AccountAction.UNLOCK, "alice@example.com", "wrong-password")
    answered(phone, attempt, None)
    assert phone.state is DeviceState.SETUP and phone.account_locked
    assert phone.last_error is not None and phone.last_error.startswith("Mi Account:")


def test_the_right_password_signs_the_phone_in_and_lets_setup_go_on(phone: Phone) -> None:
    account_locked(phone)
    attempt = phone.begin_account(AccountAction.UNLOCK, "alice@example.com", "correct-horse-9")
    bound = AccountStatus(hint="a***@example.com", find_device=True, locked=False)
    answered(
        phone,
        attempt,
        verdict_for(
            phone, attempt, status=VerdictStatus.ACTIVATED, reason="ACTIVATION_OK", account=bound
        ),
    )
    assert phone.state is DeviceState.ACTIVATED and not phone.account_locked
    assert phone.account.signed_in == "alice@example.com"


def test_what_the_phone_will_not_send(phone: Phone) -> None:
    # Activated by a version 1 verdict: no agreement key, so nothing to seal a password with.
    lock(
        phone,
        status=VerdictStatus.ACTIVATED,
        reason="ACTIVATION_OK",
        protocol=1,
        agreement_key=None,
    )
    with pytest.raises(TransitionRefused, match="no key"):
        phone.begin_account(AccountAction.SIGN_IN, "alice@example.com", "correct-horse-9")
    lock(phone, status=VerdictStatus.ACTIVATED, reason="ACTIVATION_OK")
    with pytest.raises(AccountInputError, match="8 to 128"):
        phone.begin_account(AccountAction.SIGN_IN, "alice@example.com", "short")
    with pytest.raises(AccountInputError, match="account is"):
        phone.begin_account(AccountAction.SIGN_IN, "a b", "correct-horse-9")
    with pytest.raises(TransitionRefused, match="while activated"):
        phone.begin_account(AccountAction.UNLOCK, "alice@example.com", "correct-horse-9")
    with pytest.raises(TransitionRefused, match="not signed in"):
        phone.begin_account(AccountAction.SIGN_OUT, "alice@example.com", "correct-horse-9")
    assert phone.pending is None


def test_a_version_1_vendor_is_asked_in_version_1_until_the_next_boot(phone: Phone) -> None:
    attempt = phone.begin_activation()
    assert attempt.request.protocol == 2
    refusal = Exchange(
        kind=attempt.kind,
        url="http://127.0.0.1:1/v1/activation",
        request_headers={},
        request_body=attempt.request.encode(),
        sent_at=START,
        status=400,
        error="HTTP 400 malformed_request: protocol: Input should be less than or equal to 1",
        error_code="server_refused",
        server_code="malformed_request",
    )
    phone.complete_activation(attempt, refusal)
    assert phone.request_protocol == 1
    assert phone.begin_activation().request.protocol == 1
    phone.reboot()
    phone.finish_boot()
    assert phone.request_protocol == 2
