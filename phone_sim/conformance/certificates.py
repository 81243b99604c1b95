"""Device certificates as PROTOCOL.md sections 3.1 to 3.3 describe them, and one-rule breaks.

The kit issues its devices' certificates here from the factory's intermediate (never through
the server's code): the profile of section 3.1 as a table of extensions, which a case may edit
to break exactly one rule (a CA certificate, no clientAuth, the claims extension critical...).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, ObjectIdentifier

from phone_sim.protocol.claims import DeviceClaims
from phone_sim.protocol.identity import device_subject

#: section 3.2
CLAIMS_OID = ObjectIdentifier("1.3.6.1.4.1.57264.7.1")
#: section 3.1: certificates are back-dated to 2015-01-01 and device ones last 20 x 365 days
EPOCH = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
DEVICE_VALIDITY = dt.timedelta(days=20 * 365)


@dataclass(frozen=True)
class FactoryParts:
    """A factory directory as the kit reads it: the root, and the intermediate that signs
    devices with its key (read from the files, never created)."""

    directory: Path
    root: x509.Certificate
    intermediate: x509.Certificate
    key: ec.EllipticCurvePrivateKey = field(repr=False)


#: name -> (extension, critical); None leaves the extension out
Extensions = dict[str, tuple[x509.ExtensionType, bool] | None]
Edit = Callable[[Extensions], None]


def key_usage(**asserted: bool) -> x509.KeyUsage:
    """A KeyUsage asserting exactly the named bits (``digital_signature=True``...)."""
    names = [
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    ]
    return x509.KeyUsage(**{name: asserted.get(name, False) for name in names})


def claims_json(claims: DeviceClaims | dict[str, Any]) -> bytes:
    """Section 3.2: the four keys sorted, no whitespace, non-ASCII escaped."""
    data = (
        claims
        if isinstance(claims, dict)
        else {
            "imeis": list(claims.imeis),
            "market": claims.market,
            "model": claims.model,
            "serial": claims.serial,
        }
    )
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


def profile(parts: FactoryParts, claims: bytes) -> Extensions:
    """The device certificate's extensions, section 3.1's table."""
    return {
        "basic": (x509.BasicConstraints(ca=False, path_length=None), True),
        "usage": (key_usage(digital_signature=True), True),
        "purpose": (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
        "authority": (
            x509.AuthorityKeyIdentifier.from_issuer_public_key(parts.key.public_key()),
            False,
        ),
        "claims": (x509.UnrecognizedExtension(CLAIMS_OID, claims), False),
    }


def device_chain(
    parts: FactoryParts,
    claims: DeviceClaims,
    public_key: Any,
    *,
    edit: Edit | None = None,
    claims_bytes: bytes | None = None,
    not_before: dt.datetime = EPOCH,
    not_after: dt.datetime | None = None,
    signer: ec.EllipticCurvePrivateKey | None = None,
) -> tuple[bytes, ...]:
    """``(device certificate, intermediate)`` as DER; ``edit`` changes the extensions,
    ``signer`` signs instead of the intermediate (a chain that does not reach the root)."""
    extensions = profile(parts, claims_json(claims) if claims_bytes is None else claims_bytes)
    if edit is not None:
        edit(extensions)
    builder = (
        x509.CertificateBuilder()
        .subject_name(device_subject(claims))
        .issuer_name(parts.intermediate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after or not_before + DEVICE_VALIDITY)
    )
    for entry in extensions.values():
        if entry is not None:
            builder = builder.add_extension(entry[0], critical=entry[1])
    cert = builder.sign(signer or parts.key, hashes.SHA256())
    der = serialization.Encoding.DER
    return (cert.public_bytes(der), parts.intermediate.public_bytes(der))


def setting(name: str, value: x509.ExtensionType | None, critical: bool = False) -> Edit:
    """An edit that sets (or, with None, removes) one extension."""

    def edit(extensions: Extensions) -> None:
        extensions[name] = None if value is None else (value, critical)

    return edit


def flipping(name: str) -> Edit:
    """An edit that turns one extension's criticality round."""

    def edit(extensions: Extensions) -> None:
        entry = extensions[name]
        if entry is not None:
            extensions[name] = (entry[0], not entry[1])

    return edit
