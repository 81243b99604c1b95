"""Our signers format the signature base themselves (for speed); the library must agree.

For any key id, nonce, time, body and URL of the kinds the protocol uses, our headers are the
ones ``http_message_signatures.HTTPMessageSigner`` writes: the same ``Content-Digest`` and
``Signature-Input`` byte for byte, the same Ed25519 signature (it is deterministic), and an
ECDSA signature the library verifies over its own signature base. Verification of the same
canonical form is checked against the library in ``test_canonical_verification.py``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from phone_sim.protocol.errors import SignatureError
from phone_sim.protocol.signing import (
    JSON,
    REQUEST_COMPONENTS,
    VERDICT_COMPONENTS,
    WireRequest,
    WireResponse,
    sign_request,
    sign_verdict_response,
)

DEVICE_KEY = ec.generate_private_key(ec.SECP256R1())
VENDOR_KEY = ed25519.Ed25519PrivateKey.generate()

key_ids = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=40)
nonces = st.from_regex(r"[A-Za-z0-9_-]{16,64}", fullmatch=True)
times = st.integers(min_value=0, max_value=4_000_000_000)
bodies = st.binary(max_size=600)
urls = st.sampled_from(
    [
        "http://127.0.0.1:8421/v1/activation",
        "http://127.0.0.1:54321/v1/checkin",
        "http://[::1]:8421/v1/activation",
        "https://vendor.example/v1/activation",
        "http://localhost:8421/v1/checkin?x=1",
    ]
)


def _library_sign(message: object, algorithm: type, key: object, key_id: str, **kw: object) -> None:
    signer = HTTPMessageSigner(
        signature_algorithm=algorithm,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key}),
    )
    signer.sign(message, key_id=key_id, include_alg=True, **kw)


@settings(max_examples=60, deadline=None)
@given(key_id=key_ids, nonce=nonces, created=times, body=bodies, url=urls)
def test_request_headers_are_the_librarys(
    key_id: str, nonce: str, created: int, body: bytes, url: str
) -> None:
    ours = WireRequest("POST", url, {"Content-Type": JSON}, body)
    sign_request(ours, key=DEVICE_KEY, key_id=key_id, created=created, nonce=nonce)
    theirs = WireRequest("POST", url, {"Content-Type": JSON}, body)
    _library_sign(
        theirs,
        algorithms.ECDSA_P256_SHA256,
        DEVICE_KEY,
        key_id,
        created=dt.datetime.fromtimestamp(created, tz=dt.UTC),
        nonce=nonce,
        label="device",
        covered_component_ids=REQUEST_COMPONENTS[:-1],
        body=body,
    )
    for name in ("Content-Digest", "Signature-Input"):
        assert ours.headers[name] == theirs.headers[name]
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ECDSA_P256_SHA256,
        key_resolver=MappingKeyResolver(
            public_keys={key_id: DEVICE_KEY.public_key()}, private_keys={}
        ),
    )
    verifier.max_clock_skew = dt.timedelta(days=365 * 200)
    (result,) = verifier.verify(ours, max_age=None, body=body)
    assert result.label == "device"


@settings(max_examples=60, deadline=None)
@given(key_id=key_ids, created=times, body=bodies, status=st.sampled_from([200, 201, 409]))
def test_verdict_headers_are_the_librarys(
    key_id: str, created: int, body: bytes, status: int
) -> None:
    ours = WireResponse(status, {"Content-Type": JSON}, body)
    sign_verdict_response(ours, key=VENDOR_KEY, key_id=key_id, created=created)
    theirs = WireResponse(status, {"Content-Type": JSON}, body)
    _library_sign(
        theirs,
        algorithms.ED25519,
        VENDOR_KEY,
        key_id,
        created=dt.datetime.fromtimestamp(created, tz=dt.UTC),
        label="vendor",
        covered_component_ids=VERDICT_COMPONENTS[:-1],
        body=body,
    )
    assert ours.headers == theirs.headers  # Ed25519 is deterministic: the very same bytes


@pytest.mark.parametrize("key_id", ["caf\u00e9", "tab\there", "line\nbreak"])
def test_a_key_id_the_library_cannot_carry_is_refused(key_id: str) -> None:
    request = WireRequest("POST", "http://127.0.0.1:8421/v1/activation", {}, b"{}")
    with pytest.raises(SignatureError):
        sign_request(request, key=DEVICE_KEY, key_id=key_id, created=0, nonce="n" * 16)


def test_a_content_type_with_a_line_break_is_refused() -> None:
    response = WireResponse(200, {"Content-Type": "application/json\r\nX-Evil: 1"}, b"{}")
    with pytest.raises(SignatureError):
        sign_verdict_response(response, key=VENDOR_KEY, key_id="vendor-1", created=0)


def test_a_key_of_the_wrong_kind_is_refused() -> None:
    request = WireRequest("POST", "http://127.0.0.1:8421/v1/activation", {}, b"{}")
    with pytest.raises(SignatureError):
        sign_request(request, key=VENDOR_KEY, key_id="K", created=0, nonce="n" * 16)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "method, url",
    [
        ("post", "http://127.0.0.1:8421/v1/activation"),
        ("POST", "http://127.0.0.1:8421/v1/a b"),
        ("POST", "http:///v1/activation"),
        ("POST", "127.0.0.1:8421/v1/activation"),
    ],
)
def test_a_request_the_library_cannot_sign_is_refused(method: str, url: str) -> None:
    """Only a request in our form skips the library's check of the method and the URL."""
    theirs = WireRequest(method, url, {}, b"{}")
    with pytest.raises(Exception):  # noqa: B017 - the library's own kind of refusal
        _library_sign(theirs, algorithms.ECDSA_P256_SHA256, DEVICE_KEY, "K", body=b"{}")
    ours = WireRequest(method, url, {}, b"{}")
    with pytest.raises(SignatureError):
        sign_request(ours, key=DEVICE_KEY, key_id="K", created=0, nonce="n" * 16)
