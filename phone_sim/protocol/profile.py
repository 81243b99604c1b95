"""Our fixed profile of RFC 9421, formatted and read directly: the signing module's fast path.

The protocol signs exactly two shapes (docs/PROTOCOL.md sections 5 and 7). For those shapes
the signature base is a few formatted lines, and ``http-message-signatures`` building it
through its Structured Fields serialiser (twice, when signing) cost five to ten times the
signature itself (docs/decisions/signing-fast-path.md). So:

* signing formats the headers here; ``tests/unit/test_signing_fast_path.py`` proves them byte
  for byte what the library writes;
* verifying is the library's (``signing._verify``); ``check_times`` is the one rule it applies
  differently (the age allowance, see below), so the verifier calls it instead of the library's.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from http_message_signatures import HTTPSignatureAlgorithm, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from http_message_signatures.resolvers import HTTPSignatureComponentResolver

from .errors import SignatureError, StaleMessage

_RESOLVER: Any = HTTPSignatureComponentResolver
_B64 = r"[A-Za-z0-9+/]*={0,2}"
_PARAM_CHARS = r"[A-Za-z0-9._-]+"


def sf_string(value: str) -> str:
    """An RFC 8941 sf-string: printable ASCII only, with backslash and quote escaped."""
    if not all(" " <= c <= "~" for c in value):
        raise SignatureError(f"{value!r} cannot be a signature parameter (printable ASCII only)")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def signature_params(
    components: tuple[str, ...], created: int, key_id: str, alg: str, nonce: str | None
) -> str:
    params = (
        "(" + " ".join(f'"{name}"' for name in components) + ")"
        f";created={int(created)};keyid={sf_string(key_id)};alg={sf_string(alg)}"
    )
    return params if nonce is None else params + f";nonce={sf_string(nonce)}"


def component_value(message: Any, resolver: Any, name: str) -> str:
    """What the library's resolver gives for ``name`` on a message with one field line each."""
    if name == "@method":
        value = str(resolver.get_method())
    elif name == "@target-uri":
        value = str(resolver.get_target_uri())
    elif name == "@status":
        value = str(resolver.get_status())
    else:
        found = [v.strip() for k, v in message.headers.items() if k.lower() == name]
        if len(found) != 1:
            raise SignatureError(f"the signed message needs exactly one {name!r} field")
        value = found[0]
    # The library's rules for a value in a signature base: printable, no line breaks.
    if not value.replace("\t", " ").isprintable() or value != value.strip():
        raise SignatureError(f"component {name!r} has a value that cannot be signed")
    return value


def signature_base(message: Any, components: tuple[str, ...], params: str) -> bytes:
    try:
        resolver = _RESOLVER(message)  # checks the method and the URL, as the library does
        lines = [f'"{name}": {component_value(message, resolver, name)}' for name in components]
    except (HTTPMessageSignaturesException, ValueError) as exc:
        raise SignatureError(f"the message cannot be signed: {exc}") from exc
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode()


def raw_signature(
    algorithm: type[HTTPSignatureAlgorithm],
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey,
    base: bytes,
) -> bytes:
    if algorithm is algorithms.ECDSA_P256_SHA256 and isinstance(key, ec.EllipticCurvePrivateKey):
        raw: bytes = algorithms.ECDSA_P256_SHA256.signature_from_der(
            key.sign(base, ec.ECDSA(hashes.SHA256()))
        )
        return raw
    if algorithm is algorithms.ED25519 and isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(base)
    raise SignatureError(f"a {type(key).__name__} cannot sign with {algorithm.algorithm_id}")


def digest_field(body: bytes) -> str:
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def check_times(
    created: object,
    expires: object,
    *,
    now: dt.datetime,
    max_skew: dt.timedelta,
    max_age: dt.timedelta | None,
) -> None:
    """``created`` not in the future (beyond the skew), not older than ``max_age``; ``expires``
    (if any) not more than the skew past."""
    if type(created) is not int:
        raise SignatureError('Signature is missing a required "created" parameter')
    created_at = _instant(created, "created")
    if created_at > now + max_skew:
        raise StaleMessage("signature 'created' is in the future")
    # max_age is the whole allowance for age: adding the skew again (as the library does)
    # would accept a request created 2 x MAX_REQUEST_SKEW ago, not +/- MAX_REQUEST_SKEW.
    if max_age is not None and created_at + max_age < now:
        raise StaleMessage("signature 'created' is too old")
    if expires is not None and (
        type(expires) is not int or _instant(expires, "expires") < now - max_skew
    ):
        raise StaleMessage("signature has expired")


def _instant(seconds: int, name: str) -> dt.datetime:
    """``seconds`` as a UTC time; one a calendar cannot hold is no valid signature parameter."""
    try:
        return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise SignatureError(f"signature parameter {name!r} is not a time: {exc}") from exc
