"""Protocol versions 1 and 2 meeting over real HTTP (PROTOCOL.md section 12).

* A version 1 phone and a version 2 server that uses the new fields: a request saying 1 gets a
  version 1 verdict (none of the fields, ``protocol: 1``); a request saying 2 gets them.
* A version 2 phone and a version 1 server: the server refuses ``protocol: 2`` before it looks
  at the nonce, naming ``protocol``; the phone then asks in version 1 until it reboots (the
  device model decides: ``phone_sim/device/recovery.py``).
* The committed version 2 request, sent to a real server holding the vectors' keys at their
  time under the policy they describe, is answered with the committed verdict, byte for byte
  (Ed25519 is deterministic): the vectors are what the server says, not only what the generator
  writes.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.client.vendor_client import VendorClient
from phone_sim.device.phone import Phone
from phone_sim.device.provisioning import provision
from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import DeviceState
from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.keys import public_key_pem, vendor_key_id
from phone_sim.protocol.messages import V2_VERDICT_FIELDS, ErrorBody, Verdict, VerdictStatus
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.hostile_vendor import HostileVendor, Reply, SeenRequest, hostile_vendor, signed
from tests.support.policies import policy_text
from tests.support.signed_client import SEPT_2021, DeviceIdentity, post_activation, sim
from tests.support.vendor import CUBACEL, vendor_server, verified

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
LOCK_TABLES = """
[lock_screen]
phone = "+86 400 100 5678"
email = "service.global@xiaomi.example"

[lock_warning]
notice_days_before = 2
reminder_days_before = 1
notice = "This device will be locked in two days. Please contact the retailer."
reminder = "This device will be locked tomorrow. Back up your data now."
"""


# --- a version 1 phone, a version 2 server ----------------------------------------------------


def test_a_version_1_request_gets_a_version_1_verdict_from_a_server_that_uses_version_2(
    tmp_path: Path, factory: Factory
) -> None:
    with vendor_server(tmp_path, policy=policy_text(extra=LOCK_TABLES)) as server:
        old = DeviceIdentity.issue(factory, serial="RN9S00000001")
        request = old.request([sim(CUBACEL)])
        assert request.protocol == 1  # what a version 1 phone sends
        response = post_activation(server.url, old, request)
        verdict = verified(server, response)
        assert json.loads(response.content)["protocol"] == 1
        assert not set(V2_VERDICT_FIELDS) & set(json.loads(response.content))
        assert verdict.status is VerdictStatus.ACTIVATED and verdict.lock_warning is None

        new = DeviceIdentity.issue(
            factory, serial="RN9S00000002", imeis=("490154203237518", "356938035643809")
        )
        answer = post_activation(
            server.url, new, new.request([sim(CUBACEL)]).model_copy(update={"protocol": 2})
        )
        verdict = verified(server, answer)
        assert verdict.protocol == 2 and verdict.status is VerdictStatus.ACTIVATED
        assert verdict.contact_phone == "+86 400 100 5678"
        assert verdict.lock_warning is not None
        assert verdict.lock_warning.lock_at == SEPT_2021 + 3 * 86400


def test_a_version_2_request_under_a_policy_without_the_tables_gets_only_the_agreement_key(
    tmp_path: Path, factory: Factory
) -> None:
    with vendor_server(tmp_path) as server:
        phone = DeviceIdentity.issue(factory)
        request = phone.request([sim(CUBACEL)]).model_copy(update={"protocol": 2})
        body = json.loads(post_activation(server.url, phone, request).content)
        # A version 2 verdict always carries the vendor's agreement key (section 13.1); the
        # lock screen's fields only when the policy has its tables.
        assert body["protocol"] == 2 and "agreement_key" in body
        assert not {"contact_phone", "contact_email", "lock_warning"} & set(body)


# --- a version 2 phone, a version 1 server ----------------------------------------------------

VENDOR_KEY = ed25519.Ed25519PrivateKey.generate()


def version_1_server(phone: Phone, clock: FixedClock) -> Any:
    """What a version 1 server answers: 400 to ``protocol: 2``, a verdict to ``protocol: 1``."""

    def answer(request: SeenRequest) -> Reply:
        body = json.loads(request.body)
        if body.get("protocol", 1) != 1:
            error = ErrorBody.model_validate(
                {
                    "error": {
                        "code": "malformed_request",
                        "message": "protocol: Input should be less than or equal to 1",
                    }
                }
            )
            return Reply(
                status=400,
                headers={"Content-Type": "application/json"},
                body=error.model_dump_json().encode(),
            )
        now = int(clock.now())
        verdict = Verdict(
            device_serial=phone.identity.serial,
            imei=phone.identity.imeis[0],
            status=VerdictStatus.ACTIVATED,
            reason="ACTIVATION_OK",
            message="Your device has been activated.",
            nonce=request.nonce,
            issued_at=now,
            expires_at=now + 7 * 86400,
            sequence=phone.persisted.last_sequence + 1,
            policy_version="v1-server",
        )
        key_id = vendor_key_id(VENDOR_KEY.public_key())
        return signed(verdict.encode(), key=VENDOR_KEY, key_id=key_id, created=now)

    return answer


@dataclass
class Rig:
    phone: Phone
    client: VendorClient
    vendor: HostileVendor


@pytest.fixture
def rig(tmp_path: Path, factory: Factory) -> Iterator[Rig]:
    storage = provision(
        tmp_path / "phone", factory, public_key_pem(VENDOR_KEY.public_key()), rng=random.Random(3)
    )
    clock = FixedClock(SEPT_2021)
    phone = Phone.load(storage, clock=clock, rng=random.Random(4))
    phone.power_on()
    phone.finish_boot()
    phone.insert_sim(1, Sim.of(carrier("Telekom")))
    with hostile_vendor(version_1_server(phone, clock)) as vendor:
        client = VendorClient(
            base_url=vendor.url,
            device_key=storage.load_key(),
            device_serial=phone.identity.serial,
            vendor_key=storage.load_vendor_key(),
            clock=clock,
        )
        yield Rig(phone, client, vendor)


def test_a_version_2_phone_steps_down_to_a_version_1_server_until_it_reboots(rig: Rig) -> None:
    phone, client, seen = rig.phone, rig.client, rig.vendor.seen
    attempt = phone.begin_activation()
    assert attempt.request.protocol == 2
    refused = phone.complete_activation(attempt, client.send(attempt))
    assert not refused.accepted
    assert phone.request_protocol == 1  # the refusal named protocol: ask in version 1
    again = phone.begin_activation()
    assert again.request.protocol == 1
    assert phone.complete_activation(again, client.send(again)).accepted
    assert phone.state is DeviceState.ACTIVATED
    phone.retry()
    third = phone.begin_activation()
    assert phone.complete_activation(third, client.send(third)).accepted
    assert [json.loads(r.body)["protocol"] for r in seen] == [2, 1, 1]
    phone.reboot()
    phone.finish_boot()
    assert phone.request_protocol == 2  # a reboot asks in its own version again


def test_a_server_that_refuses_for_another_reason_does_not_step_the_phone_down(rig: Rig) -> None:
    phone, client, vendor = rig.phone, rig.client, rig.vendor
    refused = Reply(
        status=400,
        headers={"Content-Type": "application/json"},
        body=b'{"error":{"code":"malformed_request","message":"sims.0: bad"}}',
    )
    vendor.answer = lambda _: refused
    attempt = phone.begin_activation()
    outcome = phone.complete_activation(attempt, client.send(attempt))
    assert not outcome.accepted and "malformed_request" in (phone.last_error or "")
    assert [json.loads(r.body)["protocol"] for r in vendor.seen] == [2]
    assert phone.request_protocol == 2  # the refusal was not about the version


# --- the committed version 2 vectors, answered by a real server ---------------------------------


def test_the_committed_version_2_request_gets_the_committed_verdict_byte_for_byte(
    tmp_path: Path,
) -> None:
    request = json.loads((VECTORS / "v2_warning_request.json").read_text())
    committed = json.loads((VECTORS / "v2_warning_verdict.json").read_text())
    data = tmp_path / "vendor"
    data.mkdir()
    shutil.copy(VECTORS / "vendor_key.pem", data / "vendor.key")
    (data / "vendor.key").chmod(0o600)
    shutil.copy(VECTORS / "vendor_public.pem", data / "vendor.pub")
    policy = tmp_path / "policy.toml"
    policy.write_text(policy_text(extra=LOCK_TABLES, version="2021-09-01"))
    settings = ServerSettings(
        data_dir=data, policy_path=policy, factory_root=VECTORS / "root.pem", port=0
    )
    with EmbeddedVendorServer(settings, clock=FixedClock(request["verify_at"])) as server:
        # The vector was signed for 127.0.0.1:8421, and the signature covers the target URI,
        # which the server rebuilds from the Host header: send the one it was signed with.
        answer = requests.post(
            server.url + "/v1/activation",
            data=request["body"].encode(),
            headers=request["headers"] | {"Host": "127.0.0.1:8421"},
            timeout=10,
        )
    assert answer.status_code == 200, answer.text
    assert answer.content == committed["body"].encode()
    for name in ("Content-Digest", "Signature-Input", "Signature"):
        assert answer.headers[name] == committed["headers"][name]
