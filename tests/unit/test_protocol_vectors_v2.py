"""The version 2 vectors (tests/vectors/v2_*.json) against our code, in both directions.

* The phone's side: from the device key and the committed verdict's agreement key, the device
  secret, the sealed password and the unblock code come out as committed; the verdict verifies
  and decodes, and answers the committed version 2 request.
* The vendor's side: from the vendor key and the certified device key, the same; the sealed
  password opens. (A real server with the vectors' keys: tests/functional/test_vectors_v2_server.py.)
* Corrupt-then-verify: a changed byte of the sealed password does not open; a code for another
  challenge, serial or key differs.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from phone_sim.protocol.account_request import AccountRequest
from phone_sim.protocol.canonical import canonical_json
from phone_sim.protocol.device_secret import (
    DeviceSecret,
    encode_agreement_key,
    open_password,
    seal_password,
    unblock_code,
    vendor_agreement_key,
)
from phone_sim.protocol.errors import MalformedMessage
from phone_sim.protocol.identity import FactoryTrust, chain_from_wire
from phone_sim.protocol.keys import load_vendor_public_key, vendor_key_id
from phone_sim.protocol.messages import ActivationRequest, Verdict
from phone_sim.protocol.signing import (
    WireRequest,
    WireResponse,
    verify_request,
    verify_verdict_response,
)
from tests.support.vectors import load_vector_module

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


gen2 = load_vector_module("generate_v2")


def read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data


ACTIVATION = read("v2_activation_request.json")
VERDICT = read("v2_verdict_response.json")
ACCOUNT = read("v2_account_request.json")
SECRETS = read("v2_device_secret.json")
SERIAL = SECRETS["serial"]

_device = serialization.load_pem_private_key((VECTORS / "device_key.pem").read_bytes(), None)
_vendor = serialization.load_pem_private_key((VECTORS / "vendor_key.pem").read_bytes(), None)
assert isinstance(_device, ec.EllipticCurvePrivateKey)
assert isinstance(_vendor, ed25519.Ed25519PrivateKey)
DEVICE_KEY: ec.EllipticCurvePrivateKey = _device
VENDOR_KEY: ed25519.Ed25519PrivateKey = _vendor
VENDOR_PUBLIC = load_vendor_public_key(VECTORS / "vendor_public.pem")


def at(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)


def certified_key() -> ec.EllipticCurvePublicKey:
    """The device key as the vendor learns it: from the chain in the request, verified."""
    chain = chain_from_wire(json.loads(ACTIVATION["body"])["certificates"])
    claims, public = FactoryTrust.load(VECTORS / "root.pem").verify_chain(
        chain, now=at(ACTIVATION["verify_at"])
    )
    assert claims.serial == SERIAL
    return public


def wire(vector: dict[str, Any]) -> WireRequest:
    return WireRequest(
        vector["method"], vector["url"], dict(vector["headers"]), vector["body"].encode()
    )


def test_the_generator_reproduces_every_version_2_file() -> None:
    assert gen2.check(VECTORS) == []


# --- the phone's side ---------------------------------------------------------------------------


def test_the_committed_verdict_verifies_and_answers_the_version_2_request() -> None:
    response = WireResponse(VERDICT["status"], dict(VERDICT["headers"]), VERDICT["body"].encode())
    verify_verdict_response(
        response,
        public_key=VENDOR_PUBLIC,
        key_id=vendor_key_id(VENDOR_PUBLIC),
        now=at(VERDICT["verify_at"]),
    )
    verdict = Verdict.decode(response.body)
    assert verdict.encode() == response.body  # canonical
    request = ActivationRequest.decode(ACTIVATION["body"].encode())
    assert (request.protocol, verdict.protocol) == (2, 2)
    assert verdict.nonce == request.nonce and verdict.device_serial == SERIAL
    assert verdict.reason == "ACCOUNT_LOCKED" and verdict.account is not None
    assert verdict.account.locked and verdict.account.hint == "a***@example.com"
    assert verdict.agreement_key == SECRETS["agreement_key"]


def test_the_phone_makes_the_committed_secret_sealed_password_and_code() -> None:
    secret = DeviceSecret.on_phone(DEVICE_KEY, SECRETS["agreement_key"], SERIAL)
    shared = DEVICE_KEY.exchange(
        ec.ECDH(),
        ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), base64.b64decode(SECRETS["agreement_key"])
        ),
    )
    assert shared.hex() == SECRETS["shared_secret_hex"]
    assert secret.unblock_key.hex() == SECRETS["unblock_key_hex"]
    assert secret.password_key.hex() == SECRETS["password_key_hex"]
    sealed = seal_password(
        secret,
        SECRETS["password"],
        action="unlock",
        account=SECRETS["account"],
        nonce=SECRETS["account_nonce"],
    )
    assert sealed == SECRETS["sealed_password"]
    assert AccountRequest.decode(ACCOUNT["body"].encode()).account.password == sealed
    assert unblock_code(secret, SECRETS["challenge"]) == SECRETS["unblock_code"]


def test_the_committed_requests_are_signed_by_the_certified_device() -> None:
    for vector, model in ((ACTIVATION, ActivationRequest), (ACCOUNT, AccountRequest)):
        body = model.decode(vector["body"].encode())
        assert body.encode() == vector["body"].encode() and body.protocol == 2
        check = verify_request(
            wire(vector), public_key=certified_key(), key_id=SERIAL, now=at(vector["verify_at"])
        )
        assert check.nonce == body.nonce


# --- the vendor's side --------------------------------------------------------------------------


def test_the_vendor_makes_the_committed_agreement_key_secret_and_code() -> None:
    agreement = vendor_agreement_key(VENDOR_KEY)
    assert encode_agreement_key(agreement.public_key()) == SECRETS["agreement_key"]
    secret = DeviceSecret.at_vendor(agreement, certified_key(), SERIAL)
    assert secret.unblock_key.hex() == SECRETS["unblock_key_hex"]
    assert unblock_code(secret, SECRETS["challenge"]) == SECRETS["unblock_code"]
    body = AccountRequest.decode(ACCOUNT["body"].encode())
    opened = open_password(
        secret, body.account.password, action="unlock", account=body.account.name, nonce=body.nonce
    )
    assert opened == SECRETS["password"]


# --- corrupt-then-verify --------------------------------------------------------------------------


def test_every_byte_of_the_sealed_password_matters() -> None:
    secret = DeviceSecret.at_vendor(vendor_agreement_key(VENDOR_KEY), certified_key(), SERIAL)
    raw = base64.b64decode(SECRETS["sealed_password"])
    for i in range(len(raw)):
        changed = bytearray(raw)
        changed[i] ^= 0x01
        with pytest.raises(MalformedMessage, match="does not open"):
            open_password(
                secret,
                base64.b64encode(bytes(changed)).decode(),
                action="unlock",
                account=SECRETS["account"],
                nonce=SECRETS["account_nonce"],
            )


def test_the_code_changes_with_the_challenge_the_serial_and_the_key() -> None:
    secret = DeviceSecret.on_phone(DEVICE_KEY, SECRETS["agreement_key"], SERIAL)
    code = SECRETS["unblock_code"]
    assert unblock_code(secret, "20210914") != code
    other_serial = DeviceSecret.on_phone(DEVICE_KEY, SECRETS["agreement_key"], "RN10P2109000002")
    assert unblock_code(other_serial, SECRETS["challenge"]) != code
    other_vendor = encode_agreement_key(
        vendor_agreement_key(ed25519.Ed25519PrivateKey.generate()).public_key()
    )
    assert (
        unblock_code(DeviceSecret.on_phone(DEVICE_KEY, other_vendor, SERIAL), SECRETS["challenge"])
        != code
    )


def test_protocol_md_section_13_is_the_committed_vector() -> None:
    doc = (VECTORS.parents[1] / "docs" / "PROTOCOL.md").read_text()
    section = doc[doc.index("## 13. The account lock and unblock codes") :]
    assert f"\n{VERDICT['body']}\n" in section
    assert f"({len(VERDICT['body'].encode())} bytes" in section
    for key in ("shared_secret_hex", "unblock_key_hex", "password_key_hex"):
        assert f"`{SECRETS[key]}`" in section, key
    assert f'"password":"{SECRETS["sealed_password"]}"' in section
    assert (
        f"`{SECRETS['challenge']}` the unblock code is **`{SECRETS['unblock_code']}`**" in section
    )


def test_a_verdict_with_a_bad_agreement_key_or_version_2_fields_in_version_1_is_malformed() -> None:
    body = json.loads(VERDICT["body"])
    for bad in (
        base64.b64encode(b"\x04" + b"\x00" * 64).decode(),  # not a point on P-256
        SECRETS["agreement_key"][:-4] + "AAA=",  # one coordinate changed
        SECRETS["agreement_key"].rstrip("="),  # base64 not in its one form
    ):
        for _ in range(2):  # the check is remembered per value: a refusal stays one
            with pytest.raises(MalformedMessage, match="agreement_key"):
                Verdict.decode(canonical_json(body | {"agreement_key": bad}))
    assert Verdict.decode(canonical_json(body)).agreement_key == SECRETS["agreement_key"]
    with pytest.raises(MalformedMessage, match="needs protocol 2"):
        Verdict.decode(canonical_json(body | {"protocol": 1}))
