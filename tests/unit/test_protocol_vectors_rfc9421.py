"""RFC 9421 Appendix B's vectors (B.2.4, B.2.5, B.2.6) through the signing library we use.

The published test keys and messages: B.2.6 Ed25519 reproduced byte for byte and refused when
tampered with, B.2.4 ECDSA P-256 verified (and its base is what the library signs), B.2.5
HMAC reproduced byte for byte. Our own vectors: ``test_protocol_vectors.py``.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt

import pytest
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

from phone_sim.protocol.signing import (
    WireRequest,
    WireResponse,
)
from tests.support.vectors import (
    gen,
    signature_bytes,
)

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
    raw = signature_bytes(B24_SIGNATURE, "sig-b24")
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
