"""Protocol version 2's verdict fields (PROTOCOL.md 7.2) and their committed vectors, both ways.

* The schema: limits of the contact details and notices, the plan's order, and a field of
  version 2 requires ``protocol: 2``.
* The committed version 2 exchange (``tests/vectors/v2_warning_*.json``): our verifiers accept it, our
  signers reproduce it byte for byte, every byte of the verdict is covered, and the phone acts
  on it. A version 1 reader (the version 1 schema, rebuilt here from the fields it had) refuses
  it, while it accepts the committed version 1 verdict, which is unchanged.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ConfigDict, Field, ValidationError, create_model

from phone_sim.device.exchange import Exchange
from phone_sim.device.identity import DeviceIdentity
from phone_sim.device.phone import ActivationAttempt, Phone
from phone_sim.device.state import DeviceState
from phone_sim.protocol.canonical import canonical_json
from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.contact import ContactKind
from phone_sim.protocol.errors import MalformedMessage, SignatureError
from phone_sim.protocol.lock_screen import LockWarning
from phone_sim.protocol.messages import V2_VERDICT_FIELDS, ActivationRequest, Verdict
from phone_sim.protocol.signing import WireRequest, WireResponse
from tests.support.vectors import (
    FIXED_TIME,
    SERIAL,
    VECTORS,
    check_request,
    check_verdict,
    gen,
)
from tests.unit.test_protocol_vectors_v2 import gen2

NOW = dt.datetime.fromtimestamp(FIXED_TIME, tz=dt.UTC)
REQUEST_V2: dict[str, Any] = json.loads((VECTORS / "v2_warning_request.json").read_text())
VERDICT_V2: dict[str, Any] = json.loads((VECTORS / "v2_warning_verdict.json").read_text())
VERDICT_V1: dict[str, Any] = json.loads((VECTORS / "verdict_response.json").read_text())


def v2_verdict() -> dict[str, Any]:
    data = json.loads(VERDICT_V2["body"])
    assert isinstance(data, dict)
    return data


# --- the schema -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"contact_phone": "+86 400 100 5678 9012"}, "contact_phone"),  # 21 characters
        ({"contact_phone": "call us"}, "contact_phone"),
        ({"contact_email": "x" * 49 + "@example.com"}, "contact_email"),  # 61 characters
        ({"contact_email": "no at sign"}, "contact_email"),
        ({"lock_warning": {"notice": "x" * 351}}, "notice"),
        ({"lock_warning": {"reminder": " "}}, "reminder"),
        ({"lock_warning": {"notice_at": FIXED_TIME + 10 * 86400}}, "notice_at <= reminder_at"),
        ({"lock_warning": {"reminder_at": FIXED_TIME + 10 * 86400}}, "reminder_at <= lock_at"),
        ({"lock_warning": {"surprise": 1}}, "surprise"),
        ({"protocol": 1}, "needs protocol 2"),
        ({"protocol": 3}, "protocol"),
    ],
)
def test_a_bad_version_2_verdict_is_refused(change: dict[str, Any], problem: str) -> None:
    data = v2_verdict()
    for key, value in change.items():
        data[key] = data[key] | value if isinstance(value, dict) else value
    with pytest.raises(MalformedMessage, match=problem):
        Verdict.decode(canonical_json(data))


def test_the_limits_are_knox_guards_and_hold_exactly() -> None:
    data = v2_verdict() | {
        "contact_phone": "+" + "1" * 19,
        "contact_email": "a" * 48 + "@example.com",
    }
    data["lock_warning"] = data["lock_warning"] | {"notice": "n" * 350, "reminder": "r" * 350}
    verdict = Verdict.decode(canonical_json(data))
    assert len(verdict.contact_phone or "") == 20 and len(verdict.contact_email or "") == 60


def test_protocol_2_without_a_field_of_version_2_is_read() -> None:
    data = {k: v for k, v in v2_verdict().items() if k not in V2_VERDICT_FIELDS}
    assert Verdict.decode(canonical_json(data)).protocol == 2


def test_requests_say_1_or_2() -> None:
    body = json.loads(REQUEST_V2["body"])
    assert ActivationRequest.decode(canonical_json(body)).protocol == 2
    assert ActivationRequest.decode(canonical_json(body | {"protocol": 1})).protocol == 1
    with pytest.raises(MalformedMessage, match="protocol"):
        ActivationRequest.decode(canonical_json(body | {"protocol": 3}))


# --- the committed version 2 exchange -----------------------------------------------------------


def request_v2() -> WireRequest:
    return WireRequest(
        method=REQUEST_V2["method"],
        url=REQUEST_V2["url"],
        headers=dict(REQUEST_V2["headers"]),
        body=REQUEST_V2["body"].encode(),
    )


def response_v2() -> WireResponse:
    return WireResponse(
        VERDICT_V2["status"], dict(VERDICT_V2["headers"]), VERDICT_V2["body"].encode()
    )


def test_the_version_2_request_verifies_and_says_2() -> None:
    check_request(request_v2())
    request = ActivationRequest.decode(REQUEST_V2["body"].encode())
    assert request.protocol == 2 and request.nonce == gen2.WARNING_NONCE
    assert request.device.serial == SERIAL


def test_our_signers_reproduce_the_version_2_exchange() -> None:
    identity = gen.load_identity(VECTORS)
    request, request_base = gen2.warning_request(identity)
    assert request.headers == REQUEST_V2["headers"]
    assert request_base.decode() == REQUEST_V2["signature_base"]
    committed = (VECTORS / gen2.WARNING_VERDICT).read_bytes()
    assert gen2._verdict_file(identity, gen2.warning_verdict(identity)) == committed


def test_the_version_2_verdict_verifies_and_carries_what_the_lock_screen_shows() -> None:
    check_verdict(response_v2())
    verdict = Verdict.decode(VERDICT_V2["body"].encode())
    assert verdict.encode() == VERDICT_V2["body"].encode()
    assert verdict.protocol == 2
    assert (verdict.contact_phone, verdict.contact_email) == (
        "+86 400 100 5678",
        "service.global@xiaomi.example",
    )
    assert verdict.lock_warning == LockWarning(
        lock_at=FIXED_TIME + 3 * 86400,
        notice_at=FIXED_TIME + 86400,
        notice="This device will be locked in two days. Please contact the retailer.",
        reminder_at=FIXED_TIME + 2 * 86400,
        reminder="This device will be locked tomorrow. Back up your data now.",
    )


def test_every_byte_of_the_version_2_verdict_is_covered() -> None:
    body = VERDICT_V2["body"].encode()
    for i in range(len(body)):
        response = response_v2()
        tampered = bytearray(body)
        tampered[i] ^= 0x01
        response.body = bytes(tampered)
        with pytest.raises(SignatureError):
            functools.partial(check_verdict, response)()


def test_the_phone_that_sent_the_version_2_request_acts_on_the_verdict() -> None:
    request = ActivationRequest.decode(REQUEST_V2["body"].encode())
    device = request.device
    clock = FixedClock(FIXED_TIME)
    phone = Phone(
        DeviceIdentity(device.serial, tuple(device.imeis), device.model, device.market, "V1"),
        request.certificates,
        clock=clock,
    )
    phone.power_on()
    phone.finish_boot()
    phone.begin_activation()
    # The request in flight is the committed one (its nonce), as the vector's phone sent it.
    attempt = ActivationAttempt(ContactKind.ACTIVATION, request.nonce, request, FIXED_TIME)
    phone.pending = attempt
    exchange = Exchange(
        kind=ContactKind.ACTIVATION,
        url=REQUEST_V2["url"],
        request_headers=REQUEST_V2["headers"],
        request_body=request.encode(),
        sent_at=FIXED_TIME,
        status=200,
        response_headers=VERDICT_V2["headers"],
        response_body=VERDICT_V2["body"].encode(),
        verdict=Verdict.decode(VERDICT_V2["body"].encode()),
        signature="valid",
    )
    assert phone.complete_activation(attempt, exchange).accepted
    assert phone.state is DeviceState.ACTIVATED
    assert phone.lock_contact == "+86 400 100 5678 · service.global@xiaomi.example"
    clock.advance(86400)
    phone.tick()
    assert phone.warning is not None and phone.warning.dismissible
    assert phone.warning.text.startswith("This device will be locked in two days")


# --- a version 1 reader -----------------------------------------------------------------------


def version_1_verdict() -> type[Any]:
    """The version 1 schema: the same fields less those of version 2, ``protocol`` at most 1."""
    fields: dict[str, Any] = {
        name: (info.annotation, info)
        for name, info in Verdict.model_fields.items()
        if name not in (*V2_VERDICT_FIELDS, "protocol")
    }
    fields["protocol"] = (int, Field(default=1, ge=1, le=1))
    config = ConfigDict(extra="forbid", strict=True, frozen=True)
    model: type[Any] = create_model("VerdictV1", __config__=config, **fields)
    return model


def test_a_version_1_reader_reads_version_1_and_refuses_version_2() -> None:
    v1 = version_1_verdict()
    assert v1.model_validate_json(VERDICT_V1["body"]).protocol == 1
    with pytest.raises(ValidationError) as refused:
        v1.model_validate_json(VERDICT_V2["body"])
    wrong = {str(error["loc"][0]) for error in refused.value.errors()}
    # Refused by its version, and by each field it does not know.
    carried = set(V2_VERDICT_FIELDS) & set(v2_verdict())  # all but the account: none is bound
    assert wrong == {"protocol", *carried} and "agreement_key" in carried


def test_the_committed_version_1_vectors_did_not_change() -> None:
    # The verdict without a field of version 2 is byte for byte a version 1 verdict.
    assert gen.check(Path(VECTORS)) == []
    assert json.loads(VERDICT_V1["body"])["protocol"] == 1
    assert not set(V2_VERDICT_FIELDS) & set(json.loads(VERDICT_V1["body"]))


def test_protocol_md_shows_the_version_2_verdict_as_committed() -> None:
    doc = (VECTORS.parents[1] / "docs" / "PROTOCOL.md").read_text()
    assert f"\n{VERDICT_V2['body']}\n" in doc
    assert f"The verdict ({len(VERDICT_V2['body'].encode())} bytes)" in doc
    for name in ("Content-Digest", "Signature"):
        assert f"{name}: {VERDICT_V2['headers'][name]}\n" in doc, name
