"""The committed test vectors (tests/vectors/) against our protocol code, in both directions.

* Our verifiers accept the committed request and verdict at the fixed time.
* Our signers reproduce the committed signature bases and headers byte for byte.
* The signature bases also match a construction written out by hand from RFC 9421 section 2.5,
  so the vectors do not merely echo the library back at itself.
* PROTOCOL.md's worked example is the committed vector; version 2's signed time vectors.

Corrupt-then-verify over these vectors: ``test_protocol_vectors_tampering.py``; RFC 9421
Appendix B's own vectors: ``test_protocol_vectors_rfc9421.py``; the shared loading:
``tests/support/vectors.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from phone_sim.protocol.clock import ClockMode
from phone_sim.protocol.errors import ProtocolError, SignatureError, StaleMessage
from phone_sim.protocol.identity import DEVICE_CLAIMS_OID, FactoryTrust, chain_from_wire
from phone_sim.protocol.messages import MAX_BODY_BYTES, ActivationRequest, Verdict, canonical_json
from phone_sim.protocol.signing import JSON as JSON_TYPE
from phone_sim.protocol.signing import (
    MAX_REQUEST_SKEW,
    REQUEST_COMPONENTS,
    VERDICT_COMPONENTS,
    WireRequest,
    WireResponse,
    sign_request,
    sign_verdict_response,
    verify_request,
    verify_verdict_response,
)
from phone_sim.protocol.timesync import TIME_PATH, TimeAnswer, TimeRequest
from tests.support.vectors import (
    DEVICE_KEY,
    FIXED_TIME,
    NONCE,
    NOW,
    REQUEST_JSON,
    SERIAL,
    VECTORS,
    VENDOR_KEY,
    VENDOR_KEY_ID,
    VENDOR_PUBLIC,
    VERDICT_JSON,
    check_request,
    check_verdict,
    committed_request,
    committed_verdict,
    device_public_key,
    gen,
    sha256_digest_field,
    signature_bytes,
)

# --- the vectors are what the code produces ---------------------------------------------------


def test_generator_check_finds_nothing_stale() -> None:
    # Re-running the generator over the committed identity changes no committed byte.
    assert gen.check(VECTORS) == []


def test_committed_chain_verifies_against_the_committed_root_at_the_fixed_time() -> None:
    chain = chain_from_wire(json.loads((VECTORS / "device_chain.json").read_text())["certificates"])
    claims, public = FactoryTrust.load(VECTORS / "root.pem").verify_chain(chain, now=NOW)
    assert claims.serial == SERIAL
    assert claims.imeis == ("867531040000016", "867531040000024")
    assert (claims.model, claims.market) == ("Redmi Note 10 Pro", "MI")
    assert public.public_numbers() == DEVICE_KEY.public_key().public_numbers()
    # The request carries exactly this chain.
    assert (
        json.loads(REQUEST_JSON["body"])["certificates"]
        == json.loads((VECTORS / "device_chain.json").read_text())["certificates"]
    )


def test_committed_root_is_a_self_signed_ca() -> None:
    root = x509.load_pem_x509_certificate((VECTORS / "root.pem").read_bytes())
    assert root.subject == root.issuer
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True


def test_committed_request_verifies_at_the_fixed_time() -> None:
    request = committed_request()
    result = verify_request(request, public_key=device_public_key(), key_id=SERIAL, now=NOW)
    assert result.key_id == SERIAL
    assert result.created == FIXED_TIME
    assert result.nonce == NONCE == ActivationRequest.decode(request.body).nonce
    assert result.covered == tuple(f'"{c}"' for c in REQUEST_COMPONENTS)


def test_committed_request_body_is_canonical_and_decodes() -> None:
    body = REQUEST_JSON["body"].encode()
    decoded = ActivationRequest.decode(body)
    assert decoded.encode() == body
    assert canonical_json(json.loads(body)) == body
    assert decoded.device.serial == SERIAL
    assert [s.home for s in decoded.sims] == ["368-01"]


def test_committed_request_signature_base_matches_rfc9421_by_hand() -> None:
    body = REQUEST_JSON["body"].encode()
    params = (
        '("@method" "@target-uri" "content-digest")'
        f';created={FIXED_TIME};keyid="{SERIAL}";alg="ecdsa-p256-sha256";nonce="{NONCE}"'
    )
    by_hand = "\n".join(
        [
            '"@method": POST',
            '"@target-uri": http://127.0.0.1:8421/v1/activation',
            f'"content-digest": {sha256_digest_field(body)}',
            f'"@signature-params": {params}',
        ]
    )
    assert REQUEST_JSON["signature_base"] == by_hand
    assert REQUEST_JSON["headers"]["Content-Digest"] == sha256_digest_field(body)
    assert REQUEST_JSON["headers"]["Signature-Input"] == f"device={params}"
    # The committed signature is a valid ECDSA P-256 signature over exactly those bytes.
    raw = signature_bytes(REQUEST_JSON["headers"]["Signature"], "device")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    DEVICE_KEY.public_key().verify(der, by_hand.encode(), ec.ECDSA(hashes.SHA256()))


def test_our_request_signer_reproduces_the_committed_request() -> None:
    request = WireRequest(
        method="POST",
        url=REQUEST_JSON["url"],
        headers={"Content-Type": "application/json"},
        body=REQUEST_JSON["body"].encode(),
    )
    key = gen.RecordingKey(DEVICE_KEY)
    sign_request(request, key=key, key_id=SERIAL, created=FIXED_TIME, nonce=NONCE)
    assert key.signed == [REQUEST_JSON["signature_base"].encode()]
    # RFC 6979 makes the ECDSA signature deterministic, so every header matches, Signature too.
    assert request.headers == REQUEST_JSON["headers"]


def test_our_request_signer_with_a_randomized_key_matches_all_but_the_signature() -> None:
    request = WireRequest("POST", REQUEST_JSON["url"], {"Content-Type": "application/json"})
    request.body = REQUEST_JSON["body"].encode()
    sign_request(request, key=DEVICE_KEY, key_id=SERIAL, created=FIXED_TIME, nonce=NONCE)
    for name in ("Content-Type", "Content-Digest", "Signature-Input"):
        assert request.headers[name] == REQUEST_JSON["headers"][name]
    check_request(request)


def test_committed_verdict_verifies_at_the_fixed_time() -> None:
    result = verify_verdict_response(
        committed_verdict(), public_key=VENDOR_PUBLIC, key_id=VENDOR_KEY_ID, now=NOW
    )
    assert result.key_id == VENDOR_KEY_ID
    assert result.created == FIXED_TIME
    assert result.nonce is None
    assert result.covered == tuple(f'"{c}"' for c in VERDICT_COMPONENTS)


def test_committed_verdict_answers_the_committed_request() -> None:
    # Every check the phone makes on the worked example passes.
    request = ActivationRequest.decode(REQUEST_JSON["body"].encode())
    verdict = Verdict.decode(VERDICT_JSON["body"].encode())
    assert verdict.encode() == VERDICT_JSON["body"].encode()
    assert verdict.device_serial == request.device.serial
    assert verdict.imei in request.device.imeis
    assert verdict.nonce == request.nonce
    assert verdict.sequence >= 1
    assert verdict.issued_at <= FIXED_TIME < verdict.expires_at
    assert verdict.status.value == "locked"


def test_vendor_key_id_is_vendor_and_16_hex_of_sha256_of_the_raw_key() -> None:
    raw = VENDOR_PUBLIC.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    expected = "vendor-" + hashlib.sha256(raw).hexdigest()[:16]
    assert expected == VENDOR_KEY_ID
    assert f'keyid="{VENDOR_KEY_ID}"' in VERDICT_JSON["headers"]["Signature-Input"]
    assert VENDOR_KEY.public_key() == VENDOR_PUBLIC


def test_committed_verdict_signature_base_matches_rfc9421_by_hand() -> None:
    body = VERDICT_JSON["body"].encode()
    params = (
        '("@status" "content-type" "content-digest")'
        f';created={FIXED_TIME};keyid="{VENDOR_KEY_ID}";alg="ed25519"'
    )
    by_hand = "\n".join(
        [
            '"@status": 200',
            '"content-type": application/json',
            f'"content-digest": {sha256_digest_field(body)}',
            f'"@signature-params": {params}',
        ]
    )
    assert VERDICT_JSON["signature_base"] == by_hand
    assert VERDICT_JSON["headers"]["Signature-Input"] == f"vendor={params}"
    VENDOR_PUBLIC.verify(
        signature_bytes(VERDICT_JSON["headers"]["Signature"], "vendor"), by_hand.encode()
    )


def test_our_verdict_signer_reproduces_the_exact_signature_header() -> None:
    response = WireResponse(
        200, {"Content-Type": "application/json"}, VERDICT_JSON["body"].encode()
    )
    key = gen.RecordingEd25519Key(VENDOR_KEY)
    sign_verdict_response(response, key=key, key_id=VENDOR_KEY_ID, created=FIXED_TIME)
    assert key.signed == [VERDICT_JSON["signature_base"].encode()]
    assert response.headers == VERDICT_JSON["headers"]
    # And with the plain key (no recording wrapper): Ed25519 needs no help to be deterministic.
    plain = WireResponse(200, {"Content-Type": "application/json"}, VERDICT_JSON["body"].encode())
    sign_verdict_response(plain, key=VENDOR_KEY, key_id=VENDOR_KEY_ID, created=FIXED_TIME)
    assert plain.headers["Signature"] == VERDICT_JSON["headers"]["Signature"]


def test_request_freshness_window_is_five_minutes_either_way() -> None:
    skew = MAX_REQUEST_SKEW
    one = dt.timedelta(seconds=1)
    check_request(committed_request(), now=NOW + skew)
    check_request(committed_request(), now=NOW - skew)
    with pytest.raises(StaleMessage, match="too old"):
        check_request(committed_request(), now=NOW + skew + one)
    with pytest.raises(StaleMessage, match="future"):
        check_request(committed_request(), now=NOW - skew - one)


def test_verdict_signature_does_not_age_but_must_not_come_from_the_future() -> None:
    # A verdict's freshness is judged on its own fields (nonce, expires_at) by the phone.
    check_verdict(committed_verdict(), now=NOW + dt.timedelta(days=365))
    check_verdict(committed_verdict(), now=NOW - MAX_REQUEST_SKEW)
    with pytest.raises(StaleMessage, match="future"):
        check_verdict(committed_verdict(), now=NOW - MAX_REQUEST_SKEW - dt.timedelta(seconds=1))


# --- the specification shows what the code does ----------------------------------------------


def test_protocol_md_worked_example_is_the_committed_vector() -> None:
    doc = (VECTORS.parents[1] / "docs" / "PROTOCOL.md").read_text()
    for vector in (REQUEST_JSON, VERDICT_JSON):
        for name in ("Content-Digest", "Signature-Input", "Signature"):
            assert f"{name}: {vector['headers'][name]}\n" in doc, name
        assert f"```\n{vector['signature_base']}\n```" in doc
    assert f"\n{VERDICT_JSON['body']}\n" in doc
    assert f"Content-Length: {len(REQUEST_JSON['body'].encode())}\n" in doc
    assert f"**{MAX_BODY_BYTES} bytes**" in doc
    assert f"OID **`{DEVICE_CLAIMS_OID.dotted_string}`**" in doc


@pytest.mark.parametrize(
    ("which", "old", "new"), [("request", "device=", "vendor="), ("verdict", "vendor=", "device=")]
)
def test_a_relabelled_signature_is_refused(which: str, old: str, new: str) -> None:
    message: WireRequest | WireResponse = (
        committed_request() if which == "request" else committed_verdict()
    )
    for name in ("Signature", "Signature-Input"):
        key = next(k for k in message.headers if k.lower() == name.lower())
        message.headers[key] = message.headers[key].replace(old, new, 1)
    check = check_request if which == "request" else check_verdict
    with pytest.raises(SignatureError, match="label"):
        check(message)  # type: ignore[arg-type]


# --- version 2: the vendor's signed time (PROTOCOL.md section 2.1) --------------------------

TIME_REQUEST_JSON: dict[str, Any] = json.loads((VECTORS / "time_request.json").read_text())
TIME_ANSWER_JSON: dict[str, Any] = json.loads((VECTORS / "time_answer.json").read_text())


def test_committed_time_request_is_canonical_and_decodes() -> None:
    body = TIME_REQUEST_JSON["body"].encode()
    request = TimeRequest.decode(body)
    assert request.encode() == body
    assert (request.protocol, request.nonce) == (2, "test-vector-time-nonce-2021")
    assert TIME_REQUEST_JSON["url"].endswith(TIME_PATH)


def test_committed_time_answer_verifies_and_decodes() -> None:
    response = WireResponse(
        TIME_ANSWER_JSON["status"],
        dict(TIME_ANSWER_JSON["headers"]),
        TIME_ANSWER_JSON["body"].encode(),
    )
    verify_verdict_response(response, public_key=VENDOR_PUBLIC, key_id=VENDOR_KEY_ID, now=NOW)
    answer = TimeAnswer.decode(response.body)
    assert answer.encode() == response.body
    assert (answer.nonce, answer.now, answer.mode, answer.speed) == (
        TimeRequest.decode(TIME_REQUEST_JSON["body"].encode()).nonce,
        FIXED_TIME,
        ClockMode.SIMULATED,
        0,
    )


def test_our_signer_reproduces_the_committed_time_answer_byte_for_byte() -> None:
    answer = TimeAnswer(
        nonce="test-vector-time-nonce-2021", now=FIXED_TIME, mode=ClockMode.SIMULATED, speed=0
    )
    response = WireResponse(200, {"Content-Type": JSON_TYPE}, answer.encode())
    sign_verdict_response(response, key=VENDOR_KEY, key_id=VENDOR_KEY_ID, created=FIXED_TIME)
    assert response.body == TIME_ANSWER_JSON["body"].encode()
    assert response.headers == TIME_ANSWER_JSON["headers"]


@pytest.mark.parametrize("index", range(0, 97, 8))
def test_any_changed_byte_of_the_time_answer_is_refused(index: int) -> None:
    body = bytearray(TIME_ANSWER_JSON["body"].encode())
    body[index % len(body)] ^= 0x01
    response = WireResponse(200, dict(TIME_ANSWER_JSON["headers"]), bytes(body))
    with pytest.raises(ProtocolError):
        verify_verdict_response(response, public_key=VENDOR_PUBLIC, key_id=VENDOR_KEY_ID, now=NOW)
