"""Our fixed profile of RFC 9421, formatted and read directly: the signing module's fast path.

The protocol signs exactly two shapes (docs/PROTOCOL.md sections 5 and 7). For those shapes
the signature base is a few formatted lines, and ``http-message-signatures`` building it
through its Structured Fields serialiser (twice, when signing) cost five to ten times the
signature itself (docs/decisions/signing-fast-path.md). So:

* signing formats the headers here; ``tests/unit/test_signing_fast_path.py`` proves them byte
  for byte what the library writes;
* verifying a message in exactly the form our signers write (:func:`read_canonical`) is done
  here too, and accepts only what the library accepts; anything else, and every refusal, is the
  library's (``signing._verify``; docs/decisions/canonical-form-verified-directly.md);
* ``check_times`` is the one rule applied differently from the library (the age allowance, see
  below), so the verifier calls it instead of the library's.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from http_message_signatures import HTTPSignatureAlgorithm, algorithms
from http_message_signatures.exceptions import HTTPMessageSignaturesException
from http_message_signatures.resolvers import HTTPSignatureComponentResolver

from .errors import SignatureError, StaleMessage

_RESOLVER: Any = HTTPSignatureComponentResolver


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
    """The lines our signers sign: a derived component of a message in our canonical form as it
    is (what the library's resolver gives for it, ``_canonical_value``), else the resolver's."""
    plain = _plain(message)
    try:
        # The resolver checks the method and the URL, as the library does: 60 µs, so only
        # for a message not in our form (or a derived value the form does not cover).
        resolver = None if plain else _RESOLVER(message)
        lines = []
        for name in components:
            value = _derived_value(message, name) if plain and name[0] == "@" else None
            if value is None:
                if resolver is None and name[0] == "@":
                    resolver = _RESOLVER(message)
                value = component_value(message, resolver, name)
            lines.append(f'"{name}": {value}')
    except (HTTPMessageSignaturesException, ValueError) as exc:
        raise SignatureError(f"the message cannot be signed: {exc}") from exc
    lines.append(f'"@signature-params": {params}')
    return "\n".join(lines).encode()


def _plain(message: Any) -> bool:
    """Whether the library's resolver would take this message's method and URL as they are (a
    request in our canonical form) or has nothing of a request to check (our verdicts)."""
    if hasattr(message, "status_code"):
        return getattr(message, "request", None) is None
    method, url = getattr(message, "method", None), getattr(message, "url", None)
    return (
        type(method) is str
        and _METHOD.fullmatch(method) is not None
        and type(url) is str
        and _URL.fullmatch(url) is not None
    )


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


# --- reading the canonical form -------------------------------------------------------------

#: a key id or nonce the canonical form carries: no character an sf-string escapes
_TOKEN = r"[A-Za-z0-9._:-]{1,200}"  # noqa: S105 - a pattern, not a password
#: an uppercase method, as the library requires
_METHOD = re.compile(r"[A-Z]{1,20}")
#: an absolute URL with a path and no query, user, fragment, escape or IPv6 literal: the
#: library's ``@target-uri`` of such a URL is the URL itself (``resolvers.get_target_uri``)
_URL = re.compile(r"[a-z][a-z0-9+.-]*://[A-Za-z0-9.-]+(?::[0-9]{1,5})?/[A-Za-z0-9._~/-]*")
#: a field value the library's normalisation leaves as it is: printable ASCII, no surrounding
#: space (``structures.normalize_header_value`` strips spaces and tabs, unfolds CRLF)
_FIELD = re.compile(r"[!-~](?:[ -~]*[!-~])?")
_BYTES = re.compile(r"[A-Za-z0-9+/]+={0,2}")


@dataclass(frozen=True)
class Shape:
    """One of the protocol's two signature shapes, as our signers write it."""

    label: str
    components: tuple[str, ...]
    algorithm: type[HTTPSignatureAlgorithm]
    with_nonce: bool
    #: the one class read directly, exactly: a subclass may add attributes the library reads
    #: (``request``, ``status_code``, ``request_target``), or that raise when read
    message_type: type[Any]

    @functools.cached_property
    def signature_input(self) -> re.Pattern[str]:
        listed = " ".join(f'"{re.escape(name)}"' for name in self.components)
        nonce = f';nonce="(?P<nonce>{_TOKEN})"' if self.with_nonce else ""
        return re.compile(
            rf"{self.label}=(?P<params>\({listed}\);created=(?P<created>0|[1-9][0-9]{{0,14}})"
            rf';keyid="(?P<keyid>{_TOKEN})";alg="{re.escape(self.algorithm.algorithm_id)}"{nonce})'
        )


def read_canonical(
    message: Any, shape: Shape, *, public_key: Any, key_id: str
) -> tuple[int, str | None] | None:
    """``(created, nonce)`` of a message in exactly the form our signers write, signed by
    ``public_key`` as ``key_id`` over its body; ``None`` for any other message.

    ``None`` decides nothing: the caller then asks the library, which refuses or accepts with
    its own reasons. What this accepts, the library accepts with the same result:
    ``tests/unit/test_canonical_verification.py`` checks both on honest, mutated and
    hand-picked hostile messages. Times are the caller's to judge (``check_times``).
    """
    if type(message) is not shape.message_type:
        return None  # another class of message is the library's (Shape.message_type)
    if hasattr(message, "status_code") != ("@status" in shape.components):
        return None  # the library tells requests from responses by this attribute
    if getattr(message, "request", None) is not None:
        return None  # a response's request is checked by the library
    fields: dict[str, str] = {}
    for name, value in message.headers.items():
        lower = name.lower() if type(name) is str else None
        if lower is None or type(value) is not str or lower in fields:
            return None  # the library combines repeated fields; read those there
        fields[lower] = value
    body = message.body
    params = shape.signature_input.fullmatch(fields.get("signature-input", ""))
    if type(body) is not bytes or params is None or params["keyid"] != key_id:
        return None
    if fields.get("content-digest") != digest_field(body):
        return None
    signature = _canonical_bytes(fields.get("signature", ""), shape.label)
    if signature is None:
        return None
    lines = []
    for name in shape.components:
        value = _canonical_value(message, fields, name)
        if value is None:
            return None
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {params["params"]}')
    try:
        shape.algorithm(public_key=public_key).verify(
            signature=signature, message="\n".join(lines).encode()
        )
    except Exception:  # any failure is the library's to judge and name
        return None
    return int(params["created"]), params["nonce"] if shape.with_nonce else None


def _canonical_bytes(field_value: str, label: str) -> bytes | None:
    """The byte sequence of ``label=:...:`` in canonical base64, or None."""
    prefix = f"{label}=:"
    encoded = field_value[len(prefix) : -1]
    if not (field_value.startswith(prefix) and field_value.endswith(":")):
        return None
    if not _BYTES.fullmatch(encoded):
        return None
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if base64.b64encode(raw).decode() == encoded else None


def _canonical_value(message: Any, fields: dict[str, str], name: str) -> str | None:
    """A covered component's value where the library would give the same, else None."""
    if name[0] == "@":
        return _derived_value(message, name)
    value = fields.get(name)
    return value if value is not None and _FIELD.fullmatch(value) else None


def _derived_value(message: Any, name: str) -> str | None:
    """A derived component's value as the library's resolver gives it, for a message in our
    canonical form; None for any other (the resolver's to judge)."""
    if name == "@method":
        method = getattr(message, "method", None)
        return method if type(method) is str and _METHOD.fullmatch(method) else None
    if name == "@target-uri":
        url = getattr(message, "url", None)
        return url if type(url) is str and _URL.fullmatch(url) else None
    if name == "@status":
        status = getattr(message, "status_code", None)
        return str(status) if type(status) is int and 100 <= status <= 999 else None
    return None
