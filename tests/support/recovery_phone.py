"""A provisioned phone to lead back from a lock (version 2), and the vendor's side of it.

No sockets: verdicts are made here with the vendor's agreement key (as the vendor derives it
from its verdict key) and handed to the phone as verified answers, as test_phone_model does.
The vendor's side of each code is computed with the vendor's keys only (:func:`vendor_code`),
the phone's with the phone's: they meet only through the protocol's derivation.

The fixtures ``factory``, ``time`` and ``phone`` (defined as ``*_fixture``, so a test's argument
does not shadow the import) are imported by the test modules that use them:
``tests/unit/test_unblock_code_model.py`` and ``tests/unit/test_account_lock_model.py``.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.device.clock import DeviceClock
from phone_sim.device.exchange import Exchange
from phone_sim.device.phone import ActivationAttempt, Phone
from phone_sim.device.provisioning import provision
from phone_sim.device.state import DeviceState
from phone_sim.protocol.device_secret import (
    DeviceSecret,
    UnblockPurpose,
    encode_agreement_key,
    unblock_code,
    vendor_agreement_key,
)
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.keys import public_key_pem
from phone_sim.protocol.messages import Verdict, VerdictStatus

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


@pytest.fixture(scope="module", name="factory")
def factory_fixture() -> Factory:
    return Factory.create()


def make_phone(tmp_path: Path, factory: Factory, name: str, time: WorldTime, seed: int) -> Phone:
    storage = provision(
        tmp_path / name, factory, public_key_pem(VENDOR.public_key()), rng=random.Random(seed)
    )
    return Phone.load(storage, clock=DeviceClock(time, shared=True), rng=random.Random(seed))


@pytest.fixture(name="time")
def time_fixture() -> WorldTime:
    return WorldTime(START)


@pytest.fixture(name="phone")
def phone_fixture(tmp_path: Path, factory: Factory, time: WorldTime) -> Phone:
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
