"""The device model's account lock (version 2): setup held at "This device is locked".

The password goes sealed for one device and request; a refused one changes nothing; the right
one signs the phone in. Also: a version 1 vendor is asked in version 1 until the next boot.
The phone and the vendor's side: ``tests/support/recovery_phone.py``.
"""

from __future__ import annotations

import pytest

from phone_sim.device.errors import TransitionRefused
from phone_sim.device.exchange import Exchange
from phone_sim.device.phone import Phone
from phone_sim.device.recovery import AccountInputError
from phone_sim.device.state import Activation, DeviceState
from phone_sim.protocol.account import AccountAction
from phone_sim.protocol.account_request import AccountRequest
from phone_sim.protocol.contact import ContactKind
from phone_sim.protocol.device_secret import (
    DeviceSecret,
    open_password,
)
from phone_sim.protocol.messages import AccountStatus, VerdictStatus
from tests.support.recovery_phone import (  # noqa: F401  (the fixtures factory, time, phone)
    AGREEMENT,
    START,
    answered,
    factory_fixture,
    lock,
    phone_fixture,
    time_fixture,
    verdict_for,
)

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
