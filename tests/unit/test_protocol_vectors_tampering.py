"""Corrupt-then-verify over the committed test vectors (tests/vectors/): nothing changed passes.

Every byte of every signed body, every byte of every signature, and every covered component
and signature parameter is changed in turn and must be refused with the right error; so must
a message signed by another key, or verified under a key id it does not belong to.
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from http_message_signatures import (
    HTTPMessageSigner,
    MappingKeyResolver,
    algorithms,
)

from phone_sim.protocol.errors import SignatureError
from phone_sim.protocol.signing import (
    WireRequest,
    WireResponse,
    sign_verdict_response,
    verify_request,
)
from tests.support.vectors import (
    DEVICE_KEY,
    FIXED_TIME,
    NONCE,
    NOW,
    REQUEST_JSON,
    SERIAL,
    VENDOR_KEY_ID,
    VERDICT_JSON,
    check_request,
    check_verdict,
    committed_request,
    committed_verdict,
    sha256_digest_field,
    signature_bytes,
)

# --- corrupt-then-verify -----------------------------------------------------------------------


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
    raw = signature_bytes(header, label)
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
