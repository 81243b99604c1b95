"""The Mi Account lock end to end: real phones, a real vendor server, raw requests where needed.

Through the pytest plugin (``phone``, ``make_phone``) as a user of the plugin would write it,
and with hand-signed requests for what a phone of ours never sends (a password sealed for another
request, a version 1 phone meeting the lock, a version 2 phone meeting a version 1 vendor).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from phone_sim.device.events import ActivationAttempt
from phone_sim.device.state import DeviceState
from phone_sim.faults import Answer, FaultProxy
from phone_sim.protocol.account import AccountAction
from phone_sim.protocol.account_request import AccountBody, AccountRequest
from phone_sim.protocol.contact import ACCOUNT_PATH, ContactKind
from phone_sim.protocol.device_secret import DeviceSecret, seal_password
from phone_sim.protocol.messages import Verdict
from phone_sim.protocol.signing import JSON, WireRequest, sign_request
from phone_sim.scenario.driver import PhoneDriver
from phone_sim.scenario.errors import DriverError
from server_stub.engine.accounts import MAX_WRONG_PER_ACCOUNT
from tests.support.signed_client import send

ACCOUNT = "alice@example.com"
PASSWORD = "correct-horse-9"
V1_FIELDS = {
    "protocol",
    "device_serial",
    "imei",
    "status",
    "reason",
    "message",
    "nonce",
    "issued_at",
    "expires_at",
    "sequence",
    "policy_version",
    "next_checkin_after",
    "offline_lock_after",
    "offline_warning_before",
}


def reset_behind_the_lock(phone: PhoneDriver) -> None:
    phone.boot()
    phone.insert_sim(1, carrier="Telekom")
    phone.activate()
    phone.sign_in(ACCOUNT, PASSWORD)
    phone.factory_reset()
    phone.activate()
    phone.check(screen="setup", account_locked=True, verdict_reason="ACCOUNT_LOCKED")


def test_the_plugin_drives_the_account_lock(phone: PhoneDriver) -> None:
    reset_behind_the_lock(phone)
    phone.check(server_account="locked", signed_in="")
    phone.reboot()  # the lock is the vendor's: a reboot asks again and meets it again
    phone.activate()
    phone.check(screen="setup", account_locked=True)
    phone.unlock_account(ACCOUNT, PASSWORD)
    phone.check(screen="home", account_locked=False, signed_in=ACCOUNT, server_account="bound")


def test_wrong_passwords_are_counted_limited_and_audited(phone: PhoneDriver) -> None:
    reset_behind_the_lock(phone)
    store = phone.world.world.vendor.server.store  # type: ignore[attr-defined]
    for left in range(MAX_WRONG_PER_ACCOUNT - 1, -1, -1):
        assert f"{left} attempt(s) left" in phone.unlock_account(ACCOUNT, f"wrong-{left}-password")
    before = store.counts()
    # The limit is reached: even the right password waits (nothing is hashed, nothing written).
    refused = phone.unlock_account(ACCOUNT, PASSWORD)
    assert "429 too_many_attempts" in refused and "try again in 24 h 00 min" in refused
    assert store.counts() == before
    assert before["password_failures"] == MAX_WRONG_PER_ACCOUNT
    phone.check(account_locked=True, screen="setup")
    audit = phone.world.vendor.admin.audit(limit=100).entries
    assert sum(e.kind == "password-wrong" for e in audit) == MAX_WRONG_PER_ACCOUNT
    phone.advance(days=1)
    phone.unlock_account(ACCOUNT, PASSWORD)
    phone.check(screen="home", signed_in=ACCOUNT)


def test_the_429_says_when_to_come_back(phone: PhoneDriver) -> None:
    reset_behind_the_lock(phone)
    for i in range(MAX_WRONG_PER_ACCOUNT):
        phone.unlock_account(ACCOUNT, f"wrong-{i}-password")
    attempt = phone.phone.begin_account(AccountAction.UNLOCK, ACCOUNT, PASSWORD)
    exchange = phone.world_phone.client.send(attempt)
    assert exchange.status == 429 and exchange.server_code == "too_many_attempts"
    assert 0 < int(exchange.response_headers["retry-after"]) <= 86400
    phone.phone.complete_activation(attempt, exchange)


def test_the_password_is_nowhere_at_the_vendor(phone: PhoneDriver) -> None:
    reset_behind_the_lock(phone)
    phone.unlock_account(ACCOUNT, PASSWORD)
    vendor = phone.world.world.vendor.server  # type: ignore[attr-defined]
    vendor.store.close()  # everything written is on disk
    for path in vendor.settings.data_dir.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    # Nor in what the phone sent (the inspector shows the sealed box).
    assert all(PASSWORD.encode() not in e.request_body for e in phone.phone.exchanges)


def test_a_sealed_password_moved_into_another_request_does_not_open(phone: PhoneDriver) -> None:
    reset_behind_the_lock(phone)
    attempt = phone.phone.begin_account(AccountAction.UNLOCK, ACCOUNT, PASSWORD)
    request = attempt.request
    assert isinstance(request, AccountRequest)
    # The same sealed password in a fresh request of this device (a new nonce), signed anew.
    moved = AccountRequest.model_validate(
        request.model_dump() | {"nonce": "another-request-nonce-01"}
    )
    storage = phone.world_phone.phone.storage
    assert storage is not None
    url = phone.world_phone.client.base_url + ACCOUNT_PATH
    wire = WireRequest("POST", url, {"Content-Type": JSON}, moved.encode())
    sign_request(
        wire,
        key=storage.load_key(),
        key_id=phone.serial,
        created=int(phone.phone.clock.now()),
        nonce=moved.nonce,
    )
    response = send(wire)
    assert response.status_code == 400
    assert "does not open" in response.json()["error"]["message"]
    # The original, sent twice: the second is a replay.
    first = phone.world_phone.client.send(attempt)
    assert first.ok
    phone.phone.complete_activation(attempt, first)
    again = send(
        WireRequest(
            "POST", url, {k: v for k, v in first.request_headers.items()}, first.request_body
        )
    )
    assert (again.status_code, again.json()["error"]["code"]) == (409, "nonce_replayed")
    phone.check(screen="home", signed_in=ACCOUNT)


def test_a_version_1_phone_meets_the_lock_as_a_plain_locked_verdict(
    make_phone: Callable[..., PhoneDriver],
) -> None:
    phone = make_phone()
    reset_behind_the_lock(phone)
    server = phone.world.world.vendor.server  # type: ignore[attr-defined]
    # The same device asking in version 1 (its firmware downgraded): the answer has version 1's
    # fields only, which a version 1 phone (closed schema) accepts; it says locked.
    request = phone.phone.build_request("version-1-activation-01")
    v1 = request.model_copy(update={"protocol": 1})
    wire = WireRequest("POST", server.url + "/v1/activation", {"Content-Type": JSON}, v1.encode())
    sign_request(
        wire,
        key=phone.phone.storage.load_key(),  # type: ignore[union-attr]
        key_id=phone.serial,
        created=int(server.clock.now()),
        nonce=v1.nonce,
    )
    response = send(wire)
    body = json.loads(response.content)
    assert response.status_code == 200 and set(body) <= V1_FIELDS
    assert (body["protocol"], body["status"], body["reason"]) == (1, "locked", "ACCOUNT_LOCKED")
    assert Verdict.decode(response.content).account is None


class Version1Vendor(FaultProxy):
    """A vendor of version 1 in front of ours: it refuses ``protocol`` 2 as its schema did."""

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> Answer | None:
        if b'"protocol":2' in body:
            error = {
                "error": {
                    "code": "malformed_request",
                    "message": "protocol: Input should be less than or equal to 1",
                }
            }
            return Answer(400, (("Content-Type", "application/json"),), json.dumps(error).encode())
        return super().answer(path, headers, body)


def test_a_version_2_phone_meets_a_version_1_vendor(phone: PhoneDriver) -> None:
    with Version1Vendor(phone.world.world.vendor.url).start() as old:
        phone.world_phone.client.base_url = old.url
        phone.boot()
        phone.insert_sim(1, carrier="Telekom")
        done = phone.activate()
        assert "activated" in done
        phone.check(screen="home")
        assert phone.phone.request_protocol == 1
        assert phone.phone.account.agreement_key is None
        last = phone.phone.exchanges[-1]
        assert last.verdict is not None and last.verdict.protocol == 1
        # Version 2's features are not there: no account to sign in to.
        with pytest.raises(DriverError, match="no key"):
            phone.sign_in(ACCOUNT, PASSWORD)
    assert phone.state is DeviceState.ACTIVATED


def test_the_vendor_clears_the_lock_and_a_later_reset_does_not_bring_it_back(
    phone: PhoneDriver,
) -> None:
    reset_behind_the_lock(phone)
    phone.operator_clear_account("proof of purchase")
    phone.check(server_account="none", account_locked=True)  # the phone learns at its contact
    phone.activate()
    phone.check(screen="home", account_locked=False, signed_in="")
    phone.factory_reset()
    phone.activate()
    phone.check(screen="home", account_locked=False)
    phone.check(audit={"kind": "account-clear", "rule": "operator:account-clear"})


def test_an_account_bound_elsewhere_cannot_be_taken_over(
    make_phone: Callable[..., PhoneDriver],
) -> None:
    first = make_phone()
    first.boot()
    first.insert_sim(1, carrier="Telekom")
    first.activate()
    first.sign_in(ACCOUNT, PASSWORD)
    # Another phone of the same world signs in to the same account with a wrong password.
    second = first.world.phone("second")
    second.boot()
    second.insert_sim(1, carrier="Telekom")
    second.activate()
    assert "password_wrong" in second.sign_in(ACCOUNT, "not-the-password")
    second.check(signed_in="", server_account="none")
    assert "activated" in second.sign_in(ACCOUNT, PASSWORD)
    second.check(signed_in=ACCOUNT, server_account="bound")
    # Signing out needs the password too.
    assert "password_wrong" in second.sign_out("not-the-password")
    second.check(server_account="bound")
    second.sign_out(PASSWORD)
    second.check(signed_in="", server_account="none")


def test_concurrent_guesses_do_not_pass_the_limit(phone: PhoneDriver) -> None:
    reset_behind_the_lock(phone)
    # Twelve wrong passwords at once, each a proper request of this phone (its own nonce, the
    # password sealed for it), made as begin_account makes one.
    model = phone.phone
    assert model.storage is not None and model.account.agreement_key is not None
    secret = DeviceSecret.on_phone(
        model.storage.load_key(), model.account.agreement_key, phone.serial
    )
    attempts = []
    for i in range(12):
        nonce = f"concurrent-guess-{i:08d}"
        sealed = seal_password(
            secret, f"wrong-password-{i:02d}", action="unlock", account=ACCOUNT, nonce=nonce
        )
        base = model.build_request(nonce).model_dump() | {"protocol": 2}
        request = AccountRequest(
            **base,
            account=AccountBody(action=AccountAction.UNLOCK, name=ACCOUNT, password=sealed),
        )
        attempts.append(ActivationAttempt(ContactKind.ACCOUNT, nonce, request, model.clock.now()))
    # Each answer is awaited however long the machine takes (scrypt is 50 ms on an idle core;
    # the test is about what the server decides, not how fast).
    phone.world_phone.client.timeout = 120
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(phone.world_phone.client.send, attempts))
    assert all(a.status is not None for a in answers), [a.error for a in answers]
    codes = sorted(a.server_code or "" for a in answers)
    assert codes.count("password_wrong") == MAX_WRONG_PER_ACCOUNT, codes
    assert codes.count("too_many_attempts") == len(attempts) - MAX_WRONG_PER_ACCOUNT
    store = phone.world.world.vendor.server.store  # type: ignore[attr-defined]
    assert store.counts()["password_failures"] == MAX_WRONG_PER_ACCOUNT
