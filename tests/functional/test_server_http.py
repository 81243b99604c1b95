"""The vendor server over real HTTP: a uvicorn on loopback, signed requests, signed verdicts.

Every rejection is checked three ways: the status, the JSON error code, and that the database
gained no row (a refused request must leave no trace but the log).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from phone_sim.protocol.errors import SignatureError
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.keys import load_vendor_public_key, vendor_key_id
from phone_sim.protocol.messages import MAX_BODY_BYTES, ActivationRequest, Verdict, VerdictStatus
from phone_sim.protocol.signing import WireResponse, verify_verdict_response
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.signed_client import (
    ACTIVATION_PATH,
    CHECKIN_PATH,
    SEPT_2021,
    DeviceIdentity,
    new_nonce,
    post_activation,
    send,
    session,
    sim,
)

LOCK_MESSAGE_START = "Xiaomi policy does not permit sale or provision of the product"


@pytest.fixture
def device(factory: Factory) -> DeviceIdentity:
    return DeviceIdentity.issue(factory)


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with session() as s:
        yield s


def verified_verdict(server: EmbeddedVendorServer, response: requests.Response) -> Verdict:
    """Check the vendor signature exactly as a phone would, then decode."""
    public = load_vendor_public_key(server.vendor_public_key_path)
    wire = WireResponse(response.status_code, dict(response.headers), response.content)
    verify_verdict_response(wire, public_key=public, key_id=vendor_key_id(public), now=_utc())
    return Verdict.decode(response.content)


def _utc() -> dt.datetime:
    return dt.datetime.fromtimestamp(SEPT_2021, tz=dt.UTC)


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    payload = response.json()
    assert set(payload) == {"error"}
    assert payload["error"]["code"] == code
    assert "Traceback" not in response.text
    detail: dict[str, str] = payload["error"]
    return detail


# --- accepted activations -------------------------------------------------------------------


def test_cuban_sim_gets_a_signed_verdict_and_a_lock_three_days_later(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity, http: requests.Session
) -> None:
    request = device.request([sim("368-01")])
    response = post_activation(vendor_server.url, device, request, http=http)

    assert response.status_code == 200, response.text
    verdict = verified_verdict(vendor_server, response)
    # The story: not locked at activation, but a few days later (the default policy: 3 days).
    assert verdict.status is VerdictStatus.ACTIVATED
    assert verdict.reason == "ACTIVATION_OK"
    assert (verdict.device_serial, verdict.imei) == (device.claims.serial, device.claims.imeis[0])
    assert verdict.nonce == request.nonce
    assert (verdict.issued_at, verdict.expires_at) == (SEPT_2021, SEPT_2021 + 7 * 86400)
    assert verdict.sequence == 1
    assert verdict.policy_version == "2021-09-sanctions-2"
    assert verdict.next_checkin_after == 86400
    # The default policy has no offline rule, and absent fields are not sent at all.
    assert verdict.offline_lock_after is None
    assert b"offline" not in response.content

    stored = vendor_server.store.device(device.claims.serial)
    assert stored is not None and (stored.status, stored.last_sequence) == ("activated", 1)
    (row,) = vendor_server.store.verdicts(device.claims.serial)
    assert row.body == response.content  # the exact bytes the phone got
    (activation,) = vendor_server.store.activations(device.claims.serial)
    assert activation["decision"]["rule"] == "flagged:lock-pending"
    assert activation["decision"]["lock_due_at"] == SEPT_2021 + 3 * 86400
    assert activation["decision"]["cause"]["territory"] == "Cuba"
    (entry,) = vendor_server.store.audit()
    assert (entry.kind, entry.serial, entry.sequence, entry.rule) == (
        "activation",
        device.claims.serial,
        1,
        "flagged:lock-pending",
    )


def test_a_tampered_verdict_fails_verification(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity, http: requests.Session
) -> None:
    response = post_activation(
        vendor_server.url, device, device.request([sim("262-01")]), http=http
    )
    public = load_vendor_public_key(vendor_server.vendor_public_key_path)
    forged = response.content.replace(b'"activated"', b'"locked"')
    assert forged != response.content
    wire = WireResponse(200, dict(response.headers), forged)
    with pytest.raises(SignatureError):
        verify_verdict_response(wire, public_key=public, key_id=vendor_key_id(public), now=_utc())


def test_german_sim_activates_and_sequences_increase(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity, http: requests.Session
) -> None:
    first = post_activation(vendor_server.url, device, device.request([sim("262-01")]), http=http)
    # Volna (Crimea) shares MCC 250 with MTS Russia, which must activate.
    second = post_activation(vendor_server.url, device, device.request([sim("250-01")]), http=http)
    third = post_activation(vendor_server.url, device, device.request([sim("250-60")]), http=http)

    verdicts = [verified_verdict(vendor_server, r) for r in (first, second, third)]
    assert [v.status for v in verdicts] == [VerdictStatus.ACTIVATED] * 3
    assert [v.sequence for v in verdicts] == [1, 2, 3]
    # MTS Russia is clean; Volna (Crimea) flags the phone: the lock is due in three days.
    rules = [a["decision"]["rule"] for a in vendor_server.store.activations(device.claims.serial)]
    assert rules == ["no-embargoed-network", "no-embargoed-network", "flagged:lock-pending"]


def test_health(vendor_server: EmbeddedVendorServer, http: requests.Session) -> None:
    response = http.get(vendor_server.url + "/v1/health", timeout=5)
    public = load_vendor_public_key(vendor_server.vendor_public_key_path)
    assert response.json() == {
        "status": "ok",
        "policy_version": "2021-09-sanctions-2",
        "vendor_key_id": vendor_key_id(public),
    }


def test_openapi_declares_request_and_error_bodies(
    vendor_server: EmbeddedVendorServer, http: requests.Session
) -> None:
    schema = http.get(vendor_server.url + "/openapi.json", timeout=5).json()
    for path in (ACTIVATION_PATH, CHECKIN_PATH):
        operation = schema["paths"][path]["post"]
        for status in ("400", "401", "403", "409", "413"):
            content = operation["responses"][status]["content"]["application/json"]
            assert content["schema"]["$ref"] == "#/components/schemas/ErrorBody"
        body_ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        assert body_ref == "#/components/schemas/ActivationRequest"
    components = schema["components"]["schemas"]
    assert {"ActivationRequest", "DeviceReport", "SimReport", "Verdict", "ErrorBody"} <= set(
        components
    )


# --- rejections -----------------------------------------------------------------------------


@pytest.fixture
def unchanged(vendor_server: EmbeddedVendorServer) -> Iterator[None]:
    """Asserts, after the test, that the database has exactly the rows it had before."""
    before = vendor_server.store.counts()
    yield
    assert vendor_server.store.counts() == before


def _signed_json(
    device: DeviceIdentity, url: str, mutate: Callable[[dict[str, Any]], None]
) -> requests.Response:
    request = device.request([sim("262-01")])
    data = request.model_dump(mode="json")
    mutate(data)
    body = json.dumps(data).encode()
    return send(device.sign(url + ACTIVATION_PATH, body, created=SEPT_2021, nonce=request.nonce))


def _bad_luhn(data: dict[str, Any]) -> None:
    imei = data["device"]["imeis"][0]
    data["device"]["imeis"][0] = imei[:-1] + str((int(imei[-1]) + 1) % 10)


MALFORMED: dict[str, Callable[[dict[str, Any]], None]] = {
    "wrong type": lambda d: d["sims"][0].update(slot="1"),
    "unknown field": lambda d: d.update(colour="red"),
    "missing field": lambda d: d.pop("nonce"),
    "invalid IMEI Luhn digit": _bad_luhn,
    "invalid MCC": lambda d: d["sims"][0].update(home_mcc="999"),
    "not an object": lambda d: d.clear(),
}


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("mutate", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_bodies_are_400(
    vendor_server: EmbeddedVendorServer,
    device: DeviceIdentity,
    mutate: Callable[[dict[str, Any]], None],
) -> None:
    response = _signed_json(device, vendor_server.url, mutate)
    assert_error(response, 400, "malformed_request")


@pytest.mark.usefixtures("unchanged")
def test_invalid_json_is_400(vendor_server: EmbeddedVendorServer, device: DeviceIdentity) -> None:
    wire = device.sign(
        vendor_server.url + ACTIVATION_PATH, b'{"device": ', created=SEPT_2021, nonce=new_nonce()
    )
    error = assert_error(send(wire), 400, "malformed_request")
    assert "not JSON" in error["message"]


@pytest.mark.usefixtures("unchanged")
def test_unsigned_request_is_401(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity
) -> None:
    body = device.request([sim("262-01")]).encode()
    response = session().post(
        vendor_server.url + ACTIVATION_PATH,
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert_error(response, 401, "signature_invalid")


@pytest.mark.usefixtures("unchanged")
def test_body_changed_after_signing_is_401(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity
) -> None:
    # The classic workaround attempt: sign with a German SIM, send the Cuban one (or vice versa).
    signed = device.request([sim("368-01")])
    swapped = signed.model_copy(update={"sims": [sim("262-01")]})
    wire = device.sign(
        vendor_server.url + ACTIVATION_PATH, signed.encode(), created=SEPT_2021, nonce=signed.nonce
    )
    assert_error(send(wire, body=swapped.encode()), 401, "signature_invalid")


@pytest.mark.usefixtures("unchanged")
def test_signature_nonce_must_be_the_body_nonce(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity
) -> None:
    request = device.request([sim("262-01")])
    wire = device.sign(
        vendor_server.url + ACTIVATION_PATH, request.encode(), created=SEPT_2021, nonce=new_nonce()
    )
    assert_error(send(wire), 401, "signature_invalid")


@pytest.mark.usefixtures("unchanged")
def test_keyid_must_be_the_certified_serial(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity
) -> None:
    request = device.request([sim("262-01")])
    url = vendor_server.url + ACTIVATION_PATH
    wire = device.sign(
        url, request.encode(), created=SEPT_2021, nonce=request.nonce, key_id="RN9S99999999"
    )
    assert_error(send(wire), 401, "signature_invalid")


@pytest.mark.usefixtures("unchanged")
def test_key_not_matching_the_certificate_is_401(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity, factory: Factory
) -> None:
    # A second device's key signing a body that carries the first device's certificate.
    impostor = DeviceIdentity.issue(factory, serial=device.claims.serial)
    request = device.request([sim("262-01")])
    wire = impostor.sign(
        vendor_server.url + ACTIVATION_PATH,
        request.encode(),
        created=SEPT_2021,
        nonce=request.nonce,
    )
    assert_error(send(wire), 401, "signature_invalid")


@pytest.mark.usefixtures("unchanged")
def test_stale_signature_is_401(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity
) -> None:
    request = device.request([sim("262-01")])
    response = post_activation(vendor_server.url, device, request, created=SEPT_2021 - 3600)
    assert_error(response, 401, "signature_stale")


@pytest.mark.usefixtures("unchanged")
def test_certificate_from_another_factory_is_403(vendor_server: EmbeddedVendorServer) -> None:
    stranger = DeviceIdentity.issue(Factory.create())
    response = post_activation(vendor_server.url, stranger, stranger.request([sim("262-01")]))
    assert_error(response, 403, "certificate_invalid")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    "claim",
    [
        {"imeis": ["490154203237518"]},
        {"serial": "RN9S00000002"},
        {"model": "Redmi 9A"},
        {"market": "IN"},
    ],
    ids=["imeis", "serial", "model", "market"],
)
def test_body_claims_differing_from_the_certificate_are_403(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity, claim: dict[str, Any]
) -> None:
    response = post_activation(vendor_server.url, device, device.request([sim("262-01")], **claim))
    error = assert_error(response, 403, "certificate_invalid")
    assert next(iter(claim)) in error["message"]


def test_replayed_request_is_409_and_writes_nothing(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity
) -> None:
    request = device.request([sim("262-01")])
    wire = device.sign(
        vendor_server.url + ACTIVATION_PATH,
        request.encode(),
        created=SEPT_2021,
        nonce=request.nonce,
    )
    assert send(wire).status_code == 200
    after_first = vendor_server.store.counts()

    assert_error(send(wire), 409, "nonce_replayed")
    assert vendor_server.store.counts() == after_first


@pytest.mark.usefixtures("unchanged")
def test_oversized_body_with_content_length_is_413(vendor_server: EmbeddedVendorServer) -> None:
    body = b"{" + b" " * MAX_BODY_BYTES + b"}"
    response = session().post(vendor_server.url + ACTIVATION_PATH, data=body, timeout=5)
    assert response.request.headers["Content-Length"] == str(len(body))
    assert_error(response, 413, "payload_too_large")


@pytest.mark.usefixtures("unchanged")
def test_oversized_chunked_body_is_413(vendor_server: EmbeddedVendorServer) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(MAX_BODY_BYTES // 1024 + 4):
            yield b" " * 1024

    response = session().post(vendor_server.url + ACTIVATION_PATH, data=chunks(), timeout=5)
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in response.request.headers
    assert_error(response, 413, "payload_too_large")


@pytest.mark.usefixtures("unchanged")
def test_a_chunked_body_under_the_limit_is_read(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity
) -> None:
    # Chunked bodies are counted, not refused: this one reaches authentication (and fails it).
    body = device.request([sim("262-01")]).encode()
    response = session().post(
        vendor_server.url + ACTIVATION_PATH, data=iter([body[:100], body[100:]]), timeout=5
    )
    assert_error(response, 401, "signature_invalid")


@pytest.mark.usefixtures("unchanged")
def test_unknown_route_and_wrong_method_are_json(
    vendor_server: EmbeddedVendorServer, http: requests.Session
) -> None:
    assert_error(http.get(vendor_server.url + "/v1/nothing", timeout=5), 404, "not_found")
    wrong = http.get(vendor_server.url + ACTIVATION_PATH, timeout=5)
    assert_error(wrong, 405, "method_not_allowed")
    assert wrong.headers["allow"] == "POST"


def test_a_server_fault_is_a_json_500_without_internals(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity
) -> None:
    # A real fault: the database is gone from under the server.
    vendor_server.store.close()
    response = post_activation(vendor_server.url, device, device.request([sim("262-01")]))
    error = assert_error(response, 500, "internal_error")
    assert "sqlite" not in error["message"].lower()
    assert "closed" not in response.text.lower()


def test_activation_request_round_trips_through_the_helper(device: DeviceIdentity) -> None:
    # Guards the helper itself: what it posts is a valid protocol message.
    request = device.request([sim("368-01", serving="262-01")])
    assert ActivationRequest.decode(request.encode()) == request
