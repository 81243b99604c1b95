"""RFC 9421 signatures for both directions of the protocol, on top of ``http-message-signatures``.

* Requests are signed by the device key (ECDSA P-256, from its factory certificate) over
  ``@method``, ``@target-uri`` and ``content-digest`` (RFC 9530), with ``created``, ``nonce``,
  ``keyid`` (the device serial) and ``alg``.
* Verdicts are signed by the vendor key (Ed25519, pinned in the phone's firmware) over
  ``@status``, ``content-type`` and ``content-digest``, with ``created``, ``keyid`` and ``alg``.

Each verifier fixes its algorithm: a message that names another ``alg`` is refused. Times come
from the caller, never from the wall clock, so simulated clocks and test vectors work.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import http_sf
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from http_message_signatures import (
    HTTPMessageVerifier,
    HTTPSignatureAlgorithm,
    HTTPSignatureKeyResolver,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException

from . import profile
from .errors import SignatureError
from .profile import (
    Shape,
    check_times,
    digest_field,
    raw_signature,
    signature_base,
    signature_params,
)
from .versions import MAX_REQUEST_SKEW as MAX_REQUEST_SKEW

REQUEST_ALGORITHM: type[HTTPSignatureAlgorithm] = algorithms.ECDSA_P256_SHA256
VERDICT_ALGORITHM: type[HTTPSignatureAlgorithm] = algorithms.ED25519
REQUEST_COMPONENTS = ("@method", "@target-uri", "content-digest")
VERDICT_COMPONENTS = ("@status", "content-type", "content-digest")
REQUEST_LABEL = "device"
VERDICT_LABEL = "vendor"
JSON = "application/json"
#: the Content-Digest member every sender sends and every receiver requires (RFC 9530)
DIGEST_ALGORITHM = "sha-256"


@dataclass
class WireRequest:
    """An HTTP request as the signature library sees it (transport-neutral)."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class WireResponse:
    """An HTTP response as the signature library sees it."""

    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


REQUEST_SHAPE = Shape(
    REQUEST_LABEL, REQUEST_COMPONENTS, REQUEST_ALGORITHM, with_nonce=True, message_type=WireRequest
)
VERDICT_SHAPE = Shape(
    VERDICT_LABEL,
    VERDICT_COMPONENTS,
    VERDICT_ALGORITHM,
    with_nonce=False,
    message_type=WireResponse,
)


@dataclass(frozen=True)
class SignatureCheck:
    """What a successful verification established."""

    key_id: str
    created: int
    nonce: str | None
    covered: tuple[str, ...]


class _DeferredTimeVerifier(HTTPMessageVerifier):
    """The library's verifier, with the time checks left to the caller.

    The library judges ``created`` and ``expires`` before anything else; here they are only
    required to be present and integers, and :func:`_verify` judges them against the injected
    clock once the signature has verified (PROTOCOL.md section 6, check 5 before 5a): the time
    of a signature that does not verify is anybody's word, and a request both tampered with
    and old is ``signature_invalid``.
    """

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        params = sig_input.params
        if type(params.get("created")) is not int:
            raise SignatureError('signature is missing a required integer "created" parameter')
        if "expires" in params and type(params["expires"]) is not int:
            raise SignatureError('signature parameter "expires" must be an integer')


def sign_request(
    request: WireRequest,
    *,
    key: ec.EllipticCurvePrivateKey,
    key_id: str,
    created: int,
    nonce: str,
) -> None:
    """Add ``Content-Digest``, ``Signature-Input`` and ``Signature`` to ``request`` in place."""
    _sign(
        request, REQUEST_ALGORITHM, key, key_id, created, REQUEST_LABEL, REQUEST_COMPONENTS, nonce
    )


def sign_verdict_response(
    response: WireResponse,
    *,
    key: ed25519.Ed25519PrivateKey,
    key_id: str,
    created: int,
) -> None:
    """Sign a verdict response in place (body and ``Content-Type`` must already be set)."""
    _sign(response, VERDICT_ALGORITHM, key, key_id, created, VERDICT_LABEL, VERDICT_COMPONENTS)


def _sign(
    message: WireRequest | WireResponse,
    algorithm: type[HTTPSignatureAlgorithm],
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
    key_id: str,
    created: int,
    label: str,
    components: tuple[str, ...],
    nonce: str | None = None,
) -> None:
    """Sign in place, writing what ``HTTPMessageSigner.sign`` writes for these arguments
    (formatted directly: :mod:`phone_sim.protocol.profile`)."""
    assert components[-1] == "content-digest"
    for name in [h for h in message.headers if h.lower() == "content-digest"]:
        del message.headers[name]
    message.headers["Content-Digest"] = digest_field(message.body)
    params = signature_params(components, created, key_id, algorithm.algorithm_id, nonce)
    signature = raw_signature(algorithm, key, signature_base(message, components, params))
    for name in [h for h in message.headers if h.lower() in ("signature-input", "signature")]:
        del message.headers[name]
    message.headers["Signature-Input"] = f"{label}={params}"
    message.headers["Signature"] = f"{label}=:{base64.b64encode(signature).decode()}:"


class _ExpectedKey(HTTPSignatureKeyResolver):
    """Resolves the one key id the verifier expects; any other is refused by name.

    The library asks for the key by the message's (unverified) ``keyid``, so this is where a
    device naming another device's serial, or a verdict naming another vendor key, stops.
    """

    def __init__(
        self, key_id: str, public_key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
    ) -> None:
        self.key_id = key_id
        self.public_key = public_key

    def resolve_public_key(
        self, key_id: str
    ) -> ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey:
        if key_id != self.key_id:
            raise SignatureError(f"signature keyid {key_id!r} is not the expected {self.key_id!r}")
        return self.public_key

    def resolve_private_key(self, key_id: str) -> None:
        raise SignatureError("a verifier holds no private key")


def verify_request(
    request: WireRequest,
    *,
    public_key: ec.EllipticCurvePublicKey,
    key_id: str,
    now: dt.datetime,
    max_age: dt.timedelta = MAX_REQUEST_SKEW,
) -> SignatureCheck:
    """Verify a device request: algorithm, coverage, digest of the body, freshness, signature."""
    return _verify(
        request,
        public_key=public_key,
        key_id=key_id,
        now=now,
        max_age=max_age,
        shape=REQUEST_SHAPE,
    )


def verify_verdict_response(
    response: WireResponse,
    *,
    public_key: ed25519.Ed25519PublicKey,
    key_id: str,
    now: dt.datetime,
) -> SignatureCheck:
    """Verify a verdict response against the pinned vendor key.

    Freshness is judged on the verdict's own nonce, issue and expiry fields, so the signature's
    ``created`` is only required to be present and not in the future.
    """
    if (_header(response.headers, "content-type") or "").split(";")[0].strip() != JSON:
        raise SignatureError("verdict is not application/json")
    return _verify(
        response,
        public_key=public_key,
        key_id=key_id,
        now=now,
        max_age=None,
        shape=VERDICT_SHAPE,
    )


def _verify(
    message: WireRequest | WireResponse,
    *,
    public_key: ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey,
    key_id: str,
    now: dt.datetime,
    max_age: dt.timedelta | None,
    shape: Shape,
    canonical_first: bool = True,
) -> SignatureCheck:
    """Verify ``message``: in our signers' exact form directly, otherwise through the library.

    The direct reading accepts only what the library accepts, with the same result; every
    refusal is the library's, with its reasons
    (docs/decisions/canonical-form-verified-directly.md). ``canonical_first=False`` asks the
    library alone (the differential test compares the two).
    """
    if canonical_first:
        read = profile.read_canonical(message, shape, public_key=public_key, key_id=key_id)
        if read is not None:
            try:
                check_times(read[0], None, now=now, max_skew=MAX_REQUEST_SKEW, max_age=max_age)
            except SignatureError:
                pass  # judged again below, and refused with the library's reading
            else:
                return SignatureCheck(
                    key_id=key_id,
                    created=read[0],
                    nonce=read[1],
                    covered=tuple(f'"{name}"' for name in shape.components),
                )
    algorithm, required, label = shape.algorithm, shape.components, shape.label
    verifier = _DeferredTimeVerifier(
        signature_algorithm=algorithm,
        key_resolver=_ExpectedKey(key_id, public_key),
    )
    try:
        # The required components are checked below, on the verified result, rather than by
        # the library's require_components: it parses them and every covered component again
        # from their string form, each time (docs/decisions/activation-cpu-accounting.md).
        (result,) = verifier.verify(message, max_age=max_age, body=message.body)
    except SignatureError:
        raise
    except (HTTPMessageSignaturesException, ValueError, TypeError) as exc:
        if isinstance(exc.__cause__, SignatureError):
            raise exc.__cause__ from None  # ours, from the key resolver: already says why
        raise SignatureError(f"signature does not verify: {exc}") from exc
    # A covered component is keyed by its serialised identifier: a bare name covers only
    # itself ("@method"), never a form with parameters ("@method";x), as in the library's check.
    missing = [name for name in required if f'"{name}"' not in result.covered_components]
    if missing:
        raise SignatureError(f"signature does not cover {', '.join(missing)}")
    if result.label != label:
        # Labels are not signed, but a device signature presented as the vendor's (or the
        # reverse) is a confusion the protocol names and refuses.
        raise SignatureError(f"signature label must be {label!r}, not {result.label!r}")
    alg = result.parameters.get("alg")
    if alg != algorithm.algorithm_id:
        # The library checks a present alg; the protocol also requires it to be present.
        raise SignatureError(f"signature must name alg={algorithm.algorithm_id!r}")
    nonce = result.parameters.get("nonce")
    if shape.with_nonce and not isinstance(nonce, str):
        raise SignatureError("signature has no nonce")
    _require_sha256(result.covered_components)
    # Only a signature that verified has a time worth judging (module docstring).
    check_times(
        result.parameters.get("created"),
        result.parameters.get("expires"),
        now=now,
        max_skew=MAX_REQUEST_SKEW,
        max_age=max_age,
    )
    return SignatureCheck(
        key_id=key_id,
        created=int(result.parameters["created"]),
        nonce=nonce if isinstance(nonce, str) else None,
        covered=tuple(k for k in result.covered_components if k != '"@signature-params"'),
    )


def _require_sha256(covered: Mapping[str, str]) -> None:
    """The signed ``Content-Digest`` holds a ``sha-256`` member (PROTOCOL.md section 5).

    The library has already checked every member present against the body and refused
    algorithms it does not know; a field with ``sha-512`` alone verifies there, but the
    protocol requires ``sha-256`` of every sender, so every receiver refuses it.
    """
    value = covered.get('"content-digest"')
    try:
        parsed = http_sf.parse(value.encode(), tltype="dictionary") if value else {}
    except ValueError as exc:  # the library parsed it already; belt and braces
        raise SignatureError(f"Content-Digest is not a structured dictionary: {exc}") from exc
    members = sorted(parsed) if isinstance(parsed, dict) else []
    if DIGEST_ALGORITHM not in members:
        raise SignatureError(
            f"Content-Digest must hold a {DIGEST_ALGORITHM} member, not only {members}"
        )


def _header(headers: dict[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None
