"""PROTOCOL.md section 5.1 and section 6's order, on the verifier both sides share.

Requests are signed here by hand (the conformance kit's signer, written from RFC 9421), so each
differs from a valid one in exactly the way named. Before version 2 stated these rules, our
verifier accepted a ``Content-Digest`` with ``sha-512`` alone, and called a tampered request
whose ``created`` was old ``signature_stale`` (it judged the time before the signature).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from phone_sim.conformance.signer import ALG, Raw, Signature, base, byte_sequence, digest, sign_p256
from phone_sim.protocol.errors import SignatureError, StaleMessage
from phone_sim.protocol.signing import (
    WireRequest,
    WireResponse,
    sign_verdict_response,
    verify_request,
    verify_verdict_response,
)

NOW = 1630497600
URL = "http://127.0.0.1:8421/v1/activation"
BODY = b'{"nonce":"a-nonce-of-the-test","x":1}'
KEY = ec.generate_private_key(ec.SECP256R1())
SERIAL = "RN10P2109000001"


def _request(
    edit: Callable[[Signature, dict[str, str]], None] = lambda s, h: None,
    *,
    created: int = NOW,
    flip: bool = False,
) -> WireRequest:
    signature = Signature(
        params=[
            ("created", created),
            ("keyid", SERIAL),
            ("alg", ALG),
            ("nonce", "a-nonce-of-the-test"),
        ]
    )
    headers = {"Content-Type": "application/json", "Content-Digest": digest(BODY)}
    edit(signature, headers)
    values = {"@method": "POST", "@target-uri": URL} | {k.lower(): v for k, v in headers.items()}
    raw = sign_p256(KEY, base(signature, values))
    if flip:
        raw = bytes([raw[0] ^ 1]) + raw[1:]
    headers["Signature-Input"] = f"device={signature.inner_list()}"
    headers["Signature"] = f"device={byte_sequence(raw)}"
    return WireRequest("POST", URL, headers, BODY)


def _verify(request: WireRequest) -> None:
    verify_request(
        request,
        public_key=KEY.public_key(),
        key_id=SERIAL,
        now=dt.datetime.fromtimestamp(NOW, dt.UTC),
    )


def _digest(value: Callable[[bytes], str]) -> Callable[[Signature, dict[str, str]], None]:
    return lambda signature, headers: headers.__setitem__("Content-Digest", value(BODY))


def _params(order: tuple[str, ...]) -> Callable[[Signature, dict[str, str]], None]:
    def edit(signature: Signature, headers: dict[str, str]) -> None:
        values = dict(signature.params)
        signature.params = [(name, values[name]) for name in order]

    return edit


def _components(*names: str) -> Callable[[Signature, dict[str, str]], None]:
    return lambda signature, headers: setattr(signature, "components", list(names))


ACCEPTED = {
    "as section 5 writes it": lambda s, h: None,
    "parameters in another order": _params(("nonce", "alg", "keyid", "created")),
    "components in another order": _components("content-digest", "@method", "@target-uri"),
    "a further covered field": _components(
        "@method", "@target-uri", "content-digest", "content-type"
    ),
    "sha-256 and sha-512": _digest(lambda b: f"{digest(b)}, {digest(b, 'sha-512')}"),
}
REFUSED = {
    # Accepted before version 2:
    "sha-512 alone": _digest(lambda b: digest(b, "sha-512")),
    # Refused before too; the rules are stated now:
    "a sha-512 that does not match beside sha-256": _digest(
        lambda b: f"{digest(b)}, {digest(b + b'x', 'sha-512')}"
    ),
    "another algorithm beside sha-256": _digest(
        lambda b: f"{digest(b)}, md5=:AAAAAAAAAAAAAAAAAAAAAA==:"
    ),
    "alg as a Token": lambda s, h: s.set_param("alg", Raw(ALG)),
    "created as a String": lambda s, h: s.set_param("created", str(NOW)),
    "created left out": lambda s, h: s.set_param("created", None),
    "a component twice": _components("@method", "@target-uri", "content-digest", "@method"),
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_what_a_verifier_accepts(name: str) -> None:
    _verify(_request(ACCEPTED[name]))


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_a_verifier_refuses_as_signature_invalid(name: str) -> None:
    with pytest.raises(SignatureError) as refused:
        _verify(_request(REFUSED[name]))
    assert type(refused.value) is SignatureError, refused.value


def test_a_signature_that_does_not_verify_is_invalid_however_old_it_says_it_is() -> None:
    # Check 5 before 5a: the time of a signature that does not verify is nobody's word.
    with pytest.raises(SignatureError) as refused:
        _verify(_request(created=NOW - 3600, flip=True))
    assert type(refused.value) is SignatureError
    with pytest.raises(StaleMessage):  # the same age, properly signed: stale
        _verify(_request(created=NOW - 3600))


def test_a_verdict_needs_sha256_in_its_digest_too() -> None:
    vendor = ed25519.Ed25519PrivateKey.generate()
    response = WireResponse(200, {"Content-Type": "application/json"}, b"{}")
    sign_verdict_response(response, key=vendor, key_id="vendor-0", created=NOW)
    at = dt.datetime.fromtimestamp(NOW, dt.UTC)
    verify_verdict_response(response, public_key=vendor.public_key(), key_id="vendor-0", now=at)
    # Re-signed over a sha-512-only digest: everything else is right.
    response.headers["Content-Digest"] = digest(b"{}", "sha-512")
    signature = Signature(
        ["@status", "content-type", "content-digest"],
        [("created", NOW), ("keyid", "vendor-0"), ("alg", "ed25519")],
        "vendor",
    )
    values = {
        "@status": "200",
        "content-type": "application/json",
        "content-digest": response.headers["Content-Digest"],
    }
    response.headers["Signature-Input"] = f"vendor={signature.inner_list()}"
    response.headers["Signature"] = f"vendor={byte_sequence(vendor.sign(base(signature, values)))}"
    with pytest.raises(SignatureError, match="sha-256"):
        verify_verdict_response(response, public_key=vendor.public_key(), key_id="vendor-0", now=at)
