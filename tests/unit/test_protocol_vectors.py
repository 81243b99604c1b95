"""The committed test vectors (tests/vectors/) against our protocol code, in both directions.

* Our verifiers accept the committed request and verdict at the fixed time.
* Our signers reproduce the committed signature bases and headers byte for byte.
* The signature bases also match a construction written out by hand from RFC 9421 section 2.5,
  so the vectors do not merely echo the library back at itself.
* Corrupt-then-verify: every byte of every signed body, every byte of every signature, and every
  covered component and signature parameter is changed in turn and must be refused with the
  right error.
* RFC 9421 Appendix B vectors (B.2.4, B.2.5, B.2.6) run through the same library.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import functools
import hashlib
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)
from http_message_signatures.digests import ContentDigest
from http_message_signatures.exceptions import InvalidSignature

from phone_sim.protocol.clock import ClockMode
from phone_sim.protocol.errors import ProtocolError, SignatureError, StaleMessage
from phone_sim.protocol.identity import DEVICE_CLAIMS_OID, FactoryTrust, chain_from_wire
from phone_sim.protocol.keys import load_vendor_public_key, vendor_key_id
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

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "phone_sim_vectors_generate", VECTORS / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


gen = _load_generator()

REQUEST_JSON: dict[str, Any] = json.loads((VECTORS / "activation_request.json").read_text())
VERDICT_JSON: dict[str, Any] = json.loads((VECTORS / "verdict_response.json").read_text())
FIXED_TIME = 1630497600
NOW = dt.datetime(2021, 9, 1, 12, 0, 0, tzinfo=dt.UTC)
SERIAL = "RN10P2109000001"
NONCE = "test-vector-nonce-2021-09-01"

_device_key = serialization.load_pem_private_key(
    (VECTORS / "device_key.pem").read_bytes(), password=None
)
assert isinstance(_device_key, ec.EllipticCurvePrivateKey)
DEVICE_KEY: ec.EllipticCurvePrivateKey = _device_key
_vendor_key = serialization.load_pem_private_key(
    (VECTORS / "vendor_key.pem").read_bytes(), password=None
)
assert isinstance(_vendor_key, ed25519.Ed25519PrivateKey)
VENDOR_KEY: ed25519.Ed25519PrivateKey = _vendor_key
VENDOR_PUBLIC = load_vendor_public_key(VECTORS / "vendor_public.pem")
VENDOR_KEY_ID = vendor_key_id(VENDOR_PUBLIC)


def committed_request() -> WireRequest:
    """A fresh copy of the committed request, safe to mutate."""
    return WireRequest(
        method=REQUEST_JSON["method"],
        url=REQUEST_JSON["url"],
        headers=dict(REQUEST_JSON["headers"]),
        body=REQUEST_JSON["body"].encode(),
    )


def committed_verdict() -> WireResponse:
    return WireResponse(
        status_code=VERDICT_JSON["status"],
        headers=dict(VERDICT_JSON["headers"]),
        body=VERDICT_JSON["body"].encode(),
    )


def device_public_key() -> ec.EllipticCurvePublicKey:
    """The device key as the server learns it: from the verified certificate chain."""
    _, public = FactoryTrust.load(VECTORS / "root.pem").verify_chain(
        chain_from_wire(json.loads(REQUEST_JSON["body"])["certificates"]), now=NOW
    )
    return public


def check_request(request: WireRequest, *, now: dt.datetime = NOW, key_id: str = SERIAL) -> object:
    return verify_request(request, public_key=DEVICE_KEY.public_key(), key_id=key_id, now=now)


def check_verdict(response: WireResponse, *, now: dt.datetime = NOW) -> object:
    return verify_verdict_response(
        response, public_key=VENDOR_PUBLIC, key_id=VENDOR_KEY_ID, now=now
    )


def sha256_digest_field(body: bytes) -> str:
    """RFC 9530 Content-Digest, written out by hand."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


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
    raw = _signature_bytes(REQUEST_JSON["headers"]["Signature"], "device")
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
        _signature_bytes(VERDICT_JSON["headers"]["Signature"], "vendor"), by_hand.encode()
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


# --- corrupt-then-verify -----------------------------------------------------------------------


def _signature_bytes(header: str, label: str) -> bytes:
    prefix = f"{label}=:"
    assert header.startswith(prefix) and header.endswith(":")
    return base64.b64decode(header[len(prefix) : -1])


def _assert_refused_as(exc_class: type[Exception], check: Callable[[], object]) -> None:
    with pytest.raises(SignatureError) as info:
        check()
    assert type(info.value) is exc_class, f"{type(info.value).__name__}: {info.value}"


def test_every_byte_of_the_request_body_is_covered() -> None:
    body = REQUEST_JSON["body"].encode()
    for i in range(len(body)):
        request = committed_request()
        tampered = bytearray(body)
        tampered[i] ^= 0x01
        request.body = bytes(tampered)
        _assert_refused_as(SignatureError, functools.partial(check_request, request))


def test_every_byte_of_the_verdict_body_is_covered() -> None:
    body = VERDICT_JSON["body"].encode()
    for i in range(len(body)):
        response = committed_verdict()
        tampered = bytearray(body)
        tampered[i] ^= 0x01
        response.body = bytes(tampered)
        _assert_refused_as(SignatureError, functools.partial(check_verdict, response))


@pytest.mark.parametrize("which", ["request", "verdict"])
def test_every_byte_of_the_signature_matters(which: str) -> None:
    label = "device" if which == "request" else "vendor"
    header = (REQUEST_JSON if which == "request" else VERDICT_JSON)["headers"]["Signature"]
    raw = _signature_bytes(header, label)
    assert len(raw) == 64  # P-256 r||s and Ed25519 are both 64 bytes
    for i in range(len(raw)):
        tampered = bytearray(raw)
        tampered[i] ^= 0x80
        value = f"{label}=:{base64.b64encode(bytes(tampered)).decode()}:"
        if which == "request":
            request = committed_request()
            request.headers["Signature"] = value
            _assert_refused_as(SignatureError, functools.partial(check_request, request))
        else:
            response = committed_verdict()
            response.headers["Signature"] = value
            _assert_refused_as(SignatureError, functools.partial(check_verdict, response))


def _edit(header: str, old: str, new: str) -> Callable[[WireRequest | WireResponse], None]:
    def mutate(message: WireRequest | WireResponse) -> None:
        assert message.headers[header].count(old) == 1, (header, old)
        message.headers[header] = message.headers[header].replace(old, new)

    return mutate


def _set(attribute: str, value: object) -> Callable[[WireRequest | WireResponse], None]:
    def mutate(message: WireRequest | WireResponse) -> None:
        setattr(message, attribute, value)

    return mutate


def _drop(header: str) -> Callable[[WireRequest | WireResponse], None]:
    def mutate(message: WireRequest | WireResponse) -> None:
        del message.headers[header]

    return mutate


def _add_second_signature(message: WireRequest | WireResponse) -> None:
    # A copy of the signature under another label: the protocol wants exactly one.
    for name in (SI, "Signature"):
        value = message.headers[name]
        message.headers[name] = value + ", " + value.replace("device=", "x=")


SI = "Signature-Input"
REQUEST_TAMPERING: dict[str, tuple[Callable[[Any], None], type[Exception]]] = {
    "method": (_set("method", "PUT"), SignatureError),
    "path (checkin)": (_set("url", "http://127.0.0.1:8421/v1/checkin"), SignatureError),
    "host": (_set("url", "http://127.0.0.2:8421/v1/activation"), SignatureError),
    "port": (_set("url", "http://127.0.0.1:8422/v1/activation"), SignatureError),
    "scheme": (_set("url", "https://127.0.0.1:8421/v1/activation"), SignatureError),
    "query added": (_set("url", "http://127.0.0.1:8421/v1/activation?x=1"), SignatureError),
    "content-digest of another body": (
        lambda m: m.headers.__setitem__("Content-Digest", sha256_digest_field(b"{}")),
        SignatureError,
    ),
    "content-digest removed": (_drop("Content-Digest"), SignatureError),
    "signature removed": (_drop("Signature"), SignatureError),
    "signature-input removed": (_drop(SI), SignatureError),
    "created +1 s": (
        _edit(SI, f"created={FIXED_TIME}", f"created={FIXED_TIME + 1}"),
        SignatureError,
    ),
    "created an hour ago": (
        _edit(SI, f"created={FIXED_TIME}", f"created={FIXED_TIME - 3600}"),
        SignatureError,  # tampered: invalid before stale (PROTOCOL.md 6, 5 before 5a)
    ),
    "created an hour ahead": (
        _edit(SI, f"created={FIXED_TIME}", f"created={FIXED_TIME + 3600}"),
        SignatureError,  # tampered: invalid before stale (PROTOCOL.md 6, 5 before 5a)
    ),
    "created removed": (_edit(SI, f";created={FIXED_TIME}", ""), SignatureError),
    "created as a string": (
        _edit(SI, f"created={FIXED_TIME}", f'created="{FIXED_TIME}"'),
        SignatureError,
    ),
    "keyid": (_edit(SI, f'keyid="{SERIAL}"', 'keyid="RN10P2109000002"'), SignatureError),
    "keyid removed": (_edit(SI, f';keyid="{SERIAL}"', ""), SignatureError),
    "alg ed25519": (_edit(SI, 'alg="ecdsa-p256-sha256"', 'alg="ed25519"'), SignatureError),
    "alg p384": (_edit(SI, 'alg="ecdsa-p256-sha256"', 'alg="ecdsa-p384-sha384"'), SignatureError),
    "alg removed": (_edit(SI, ';alg="ecdsa-p256-sha256"', ""), SignatureError),
    "nonce": (
        _edit(SI, f'nonce="{NONCE}"', 'nonce="test-vector-nonce-2021-09-02"'),
        SignatureError,
    ),
    "nonce removed": (_edit(SI, f';nonce="{NONCE}"', ""), SignatureError),
    "unknown parameter": (_edit(SI, f'nonce="{NONCE}"', f'nonce="{NONCE}";foo=1'), SignatureError),
    "expires in the past": (
        _edit(SI, f'nonce="{NONCE}"', f'nonce="{NONCE}";expires={FIXED_TIME - 3600}'),
        SignatureError,  # tampered: invalid before stale (PROTOCOL.md 6, 5 before 5a)
    ),
    "content-digest not covered": (_edit(SI, ' "content-digest")', ")"), SignatureError),
    "@target-uri not covered": (_edit(SI, ' "@target-uri"', ""), SignatureError),
    "@method not covered": (_edit(SI, '"@method" ', ""), SignatureError),
    "components reordered": (
        _edit(SI, '"@method" "@target-uri"', '"@target-uri" "@method"'),
        SignatureError,
    ),
    "second signature": (_add_second_signature, SignatureError),
    "signature-input not a structured field": (_edit(SI, "device=(", "device=(("), SignatureError),
}


@pytest.mark.parametrize("name", sorted(REQUEST_TAMPERING))
def test_request_tampering_is_refused(name: str) -> None:
    mutate, expected = REQUEST_TAMPERING[name]
    request = committed_request()
    mutate(request)
    _assert_refused_as(expected, lambda: check_request(request))


def test_request_signed_by_another_device_key_is_refused() -> None:
    other = ec.generate_private_key(ec.SECP256R1())
    request = committed_request()
    _assert_refused_as(
        SignatureError,
        lambda: verify_request(request, public_key=other.public_key(), key_id=SERIAL, now=NOW),
    )


def test_request_verified_under_the_claimed_but_wrong_keyid_is_refused() -> None:
    # A server that resolved the key by the claimed keyid must still find a bad signature.
    request = committed_request()
    _edit(SI, f'keyid="{SERIAL}"', 'keyid="RN10P2109000002"')(request)
    _assert_refused_as(SignatureError, lambda: check_request(request, key_id="RN10P2109000002"))


VERDICT_TAMPERING: dict[str, tuple[Callable[[Any], None], type[Exception]]] = {
    "status 201": (_set("status_code", 201), SignatureError),
    "status 403": (_set("status_code", 403), SignatureError),
    "status 500": (_set("status_code", 500), SignatureError),
    "content-type text/plain": (
        lambda m: m.headers.__setitem__("Content-Type", "text/plain"),
        SignatureError,
    ),
    "content-type with charset": (
        lambda m: m.headers.__setitem__("Content-Type", "application/json; charset=utf-8"),
        SignatureError,
    ),
    "content-type removed": (_drop("Content-Type"), SignatureError),
    "content-digest of another body": (
        lambda m: m.headers.__setitem__("Content-Digest", sha256_digest_field(b"{}")),
        SignatureError,
    ),
    "content-digest removed": (_drop("Content-Digest"), SignatureError),
    "signature removed": (_drop("Signature"), SignatureError),
    "created -1 s": (
        _edit(SI, f"created={FIXED_TIME}", f"created={FIXED_TIME - 1}"),
        SignatureError,
    ),
    "created a day ahead": (
        _edit(SI, f"created={FIXED_TIME}", f"created={FIXED_TIME + 86400}"),
        SignatureError,  # tampered: invalid before stale (PROTOCOL.md 6, 5 before 5a)
    ),
    "created removed": (_edit(SI, f";created={FIXED_TIME}", ""), SignatureError),
    "keyid": (
        _edit(SI, f'keyid="{VENDOR_KEY_ID}"', 'keyid="vendor-0000000000000000"'),
        SignatureError,
    ),
    "keyid removed": (_edit(SI, f';keyid="{VENDOR_KEY_ID}"', ""), SignatureError),
    "alg ecdsa": (_edit(SI, 'alg="ed25519"', 'alg="ecdsa-p256-sha256"'), SignatureError),
    "alg removed": (_edit(SI, ';alg="ed25519"', ""), SignatureError),
    "nonce added": (
        _edit(SI, 'alg="ed25519"', 'alg="ed25519";nonce="xyzxyzxyzxyzxyzx"'),
        SignatureError,
    ),
    "@status not covered": (_edit(SI, '"@status" ', ""), SignatureError),
    "content-type not covered": (_edit(SI, ' "content-type"', ""), SignatureError),
    "content-digest not covered": (_edit(SI, ' "content-digest")', ")"), SignatureError),
}


@pytest.mark.parametrize("name", sorted(VERDICT_TAMPERING))
def test_verdict_tampering_is_refused(name: str) -> None:
    mutate, expected = VERDICT_TAMPERING[name]
    response = committed_verdict()
    mutate(response)
    _assert_refused_as(expected, lambda: check_verdict(response))


def test_verdict_signed_by_another_vendor_key_is_refused() -> None:
    impostor = ed25519.Ed25519PrivateKey.generate()
    response = WireResponse(
        200, {"Content-Type": "application/json"}, VERDICT_JSON["body"].encode()
    )
    # The impostor even claims the pinned key's id; only the pinned key decides.
    sign_verdict_response(response, key=impostor, key_id=VENDOR_KEY_ID, created=FIXED_TIME)
    _assert_refused_as(SignatureError, lambda: check_verdict(response))


def test_verdict_with_a_valid_signature_by_the_device_key_is_refused() -> None:
    # Algorithm confusion: a verdict signed (validly) with ECDSA must not pass as a vendor verdict.
    response = WireResponse(
        200, {"Content-Type": "application/json"}, VERDICT_JSON["body"].encode()
    )
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ECDSA_P256_SHA256,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={VENDOR_KEY_ID: DEVICE_KEY}),
    )
    signer.sign(
        response,
        key_id=VENDOR_KEY_ID,
        created=NOW,
        label="vendor",
        covered_component_ids=("@status", "content-type"),
        body=response.body,
    )
    _assert_refused_as(SignatureError, lambda: check_verdict(response))


# --- RFC 9421 Appendix B -----------------------------------------------------------------------

# B.1.3 test-key-ecc-p256 and B.1.4 test-key-ed25519 (published test keys).
RFC_P256_PRIVATE = b"""-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIFKbhfNZfpDsW43+0+JjUr9K+bTeuxopu653+hBaXGA7oAoGCCqGSM49
AwEHoUQDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lfw0EkjqF7xB4FivAxzic30tMM
4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==
-----END EC PRIVATE KEY-----
"""
RFC_P256_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqIVYZVLCrPZHGHjP17CTW0/+D9Lf
w0EkjqF7xB4FivAxzic30tMM4GF+hR6Dxh71Z50VGGdldkkDXZCnTNnoXQ==
-----END PUBLIC KEY-----
"""
RFC_ED25519_PRIVATE = b"""-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
RFC_ED25519_PUBLIC = b"""-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
# B.1.5 test-shared-secret.
RFC_SHARED_SECRET = base64.b64decode(
    "uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ=="
)
RFC_CREATED = dt.datetime.fromtimestamp(1618884473, tz=dt.UTC)


def rfc_test_request() -> WireRequest:
    """B.2 test-request: POST /foo?param=Value&Pet=dog with {"hello": "world"}."""
    return WireRequest(
        method="POST",
        url="https://example.com/foo?param=Value&Pet=dog",
        headers={
            "Host": "example.com",
            "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
            "Content-Type": "application/json",
            "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+"
            "AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:",
            "Content-Length": "18",
        },
        body=b'{"hello": "world"}',
    )


def rfc_test_response() -> WireResponse:
    """B.2 test-response: 200 with {"message": "good dog"}."""
    return WireResponse(
        status_code=200,
        headers={
            "Date": "Tue, 20 Apr 2021 02:07:56 GMT",
            "Content-Type": "application/json",
            "Content-Digest": "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5"
            "oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:",
            "Content-Length": "23",
        },
        body=b'{"message": "good dog"}',
    )


def test_rfc9421_test_messages_carry_correct_digests() -> None:
    request, response = rfc_test_request(), rfc_test_response()
    ContentDigest.verify(request.headers["Content-Digest"], request.body)
    ContentDigest.verify(response.headers["Content-Digest"], response.body)
    assert len(request.body) == int(request.headers["Content-Length"])
    assert len(response.body) == int(response.headers["Content-Length"])


def test_rfc9421_test_keys_are_pairs() -> None:
    p256 = serialization.load_pem_private_key(RFC_P256_PRIVATE, password=None)
    ed = serialization.load_pem_private_key(RFC_ED25519_PRIVATE, password=None)
    assert isinstance(p256, ec.EllipticCurvePrivateKey)
    assert isinstance(ed, ed25519.Ed25519PrivateKey)
    spki = (serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert p256.public_key().public_bytes(*spki) == RFC_P256_PUBLIC
    assert ed.public_key().public_bytes(*spki) == RFC_ED25519_PUBLIC


B26_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n'
    '"@method": POST\n'
    '"@path": /foo\n'
    '"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
    ';created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1"
    "u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
)


def test_rfc9421_b26_ed25519_signature_is_reproduced_byte_for_byte() -> None:
    private = serialization.load_pem_private_key(RFC_ED25519_PRIVATE, password=None)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    key = gen.RecordingEd25519Key(private)
    request = rfc_test_request()
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={"test-key-ed25519": key}),
    )
    signer.sign(
        request,
        key_id="test-key-ed25519",
        created=RFC_CREATED,
        label="sig-b26",
        include_alg=False,
        covered_component_ids=(
            "date",
            "@method",
            "@path",
            "@authority",
            "content-type",
            "content-length",
        ),
        use_existing_digest=True,
    )
    assert key.signed == [B26_BASE.encode()]
    assert request.headers["Signature-Input"] == B26_SIGNATURE_INPUT
    assert request.headers["Signature"] == B26_SIGNATURE


def test_rfc9421_b26_ed25519_signature_verifies_and_refuses_tampering() -> None:
    public = serialization.load_pem_public_key(RFC_ED25519_PUBLIC)
    assert isinstance(public, ed25519.Ed25519PublicKey)
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={"test-key-ed25519": public}, private_keys={}),
    )
    request = rfc_test_request()
    request.headers.update({"Signature-Input": B26_SIGNATURE_INPUT, "Signature": B26_SIGNATURE})
    (result,) = verifier.verify(request, max_age=None)
    assert result.label == "sig-b26"
    assert result.parameters == {"created": 1618884473, "keyid": "test-key-ed25519"}
    for header, value in [("Date", "Tue, 20 Apr 2021 02:07:56 GMT"), ("Content-Length", "19")]:
        tampered = copy.deepcopy(request)
        tampered.headers[header] = value
        with pytest.raises(InvalidSignature):
            verifier.verify(tampered, max_age=None)


B24_BASE = (
    '"@status": 200\n'
    '"content-type": application/json\n'
    '"content-digest": sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5'
    "oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:\n"
    '"content-length": 23\n'
    '"@signature-params": ("@status" "content-type" "content-digest" "content-length")'
    ';created=1618884473;keyid="test-key-ecc-p256"'
)
B24_SIGNATURE_INPUT = (
    'sig-b24=("@status" "content-type" "content-digest" "content-length")'
    ';created=1618884473;keyid="test-key-ecc-p256"'
)
B24_SIGNATURE = (
    "sig-b24=:wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NK"
    "ocgPquLgyahnzDnDAUy5eCdlYUEkLIj+32oiasw==:"
)


def test_rfc9421_b24_ecdsa_signature_verifies() -> None:
    public = serialization.load_pem_public_key(RFC_P256_PUBLIC)
    assert isinstance(public, ec.EllipticCurvePublicKey)
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ECDSA_P256_SHA256,
        key_resolver=MappingKeyResolver(public_keys={"test-key-ecc-p256": public}, private_keys={}),
    )
    response = rfc_test_response()
    response.headers.update({"Signature-Input": B24_SIGNATURE_INPUT, "Signature": B24_SIGNATURE})
    (result,) = verifier.verify(response, max_age=None, body=response.body)
    assert result.label == "sig-b24"
    assert result.body == response.body
    # The same check without the library: the RFC's signature over the RFC's base.
    raw = _signature_bytes(B24_SIGNATURE, "sig-b24")
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    public.verify(der, B24_BASE.encode(), ec.ECDSA(hashes.SHA256()))
    tampered = copy.deepcopy(response)
    tampered.status_code = 201
    with pytest.raises(InvalidSignature):
        verifier.verify(tampered, max_age=None)


def test_rfc9421_b24_base_is_what_the_library_signs() -> None:
    private = serialization.load_pem_private_key(RFC_P256_PRIVATE, password=None)
    assert isinstance(private, ec.EllipticCurvePrivateKey)
    key = gen.RecordingKey(private)
    response = rfc_test_response()
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ECDSA_P256_SHA256,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={"test-key-ecc-p256": key}),
    )
    signer.sign(
        response,
        key_id="test-key-ecc-p256",
        created=RFC_CREATED,
        label="sig-b24",
        include_alg=False,
        covered_component_ids=("@status", "content-type", "content-digest", "content-length"),
        use_existing_digest=True,
    )
    assert key.signed == [B24_BASE.encode()]
    assert response.headers["Signature-Input"] == B24_SIGNATURE_INPUT


def test_rfc9421_b25_hmac_signature_is_reproduced_byte_for_byte() -> None:
    request = rfc_test_request()
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.HMAC_SHA256,
        key_resolver=MappingKeyResolver(
            public_keys={}, private_keys={"test-shared-secret": RFC_SHARED_SECRET}
        ),
    )
    signer.sign(
        request,
        key_id="test-shared-secret",
        created=RFC_CREATED,
        label="sig-b25",
        include_alg=False,
        covered_component_ids=("date", "@authority", "content-type"),
        use_existing_digest=True,
    )
    assert request.headers["Signature-Input"] == (
        'sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"'
    )
    assert request.headers["Signature"] == "sig-b25=:pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=:"


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
