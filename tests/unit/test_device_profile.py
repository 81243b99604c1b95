"""The device certificate's profile in X.509 terms (PROTOCOL.md section 3.3).

Each test issues a device certificate from a factory's intermediate that differs from what the
factory issues in one extension, and checks what the verifier says. The first group was
accepted before the profile was written down (cryptography's path validation with a permissive
end-entity policy checked presence and criticality only): a CA certificate, a key without
digitalSignature, and a certificate for another purpose than client authentication.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from phone_sim.conformance.certificates import key_usage
from phone_sim.protocol.errors import CertificateError
from phone_sim.protocol.identity import DEVICE_CLAIMS_OID, EPOCH, DeviceClaims, Factory
from phone_sim.protocol.imei import make_imei

NOW = dt.datetime(2021, 9, 1, 12, tzinfo=dt.UTC)
CLAIMS = DeviceClaims("PROFILE0001", (make_imei("86781204", 7),), "Redmi Note 9", "MI")
Builder = x509.CertificateBuilder
FACTORY = Factory.create()


SIGNING = key_usage(digital_signature=True)


def _issue(
    edit: Callable[[dict[str, tuple[x509.ExtensionType, bool] | None]], None],
) -> list[bytes]:
    """A device chain whose extensions are the factory's after ``edit`` (None drops one)."""
    key = ec.generate_private_key(ec.SECP256R1())
    intermediate_key = FACTORY._intermediate_key
    extensions: dict[str, tuple[x509.ExtensionType, bool] | None] = {
        "basic": (x509.BasicConstraints(ca=False, path_length=None), True),
        "usage": (SIGNING, True),
        "purpose": (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False),
        "authority": (
            x509.AuthorityKeyIdentifier.from_issuer_public_key(intermediate_key.public_key()),
            False,
        ),
        "claims": (x509.UnrecognizedExtension(DEVICE_CLAIMS_OID, CLAIMS.to_json()), False),
    }
    edit(extensions)
    builder = (
        Builder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Redmi PROFILE0001")]))
        .issuer_name(FACTORY.intermediate_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(EPOCH)
        .not_valid_after(EPOCH + dt.timedelta(days=3650 * 2))
    )
    for entry in extensions.values():
        if entry is not None:
            builder = builder.add_extension(entry[0], critical=entry[1])
    cert = builder.sign(intermediate_key, hashes.SHA256())
    der = serialization.Encoding.DER
    return [cert.public_bytes(der), FACTORY.intermediate_cert.public_bytes(der)]


def _set(
    name: str, value: x509.ExtensionType | None, critical: bool = False
) -> Callable[..., None]:
    def edit(extensions: dict[str, tuple[x509.ExtensionType, bool] | None]) -> None:
        extensions[name] = None if value is None else (value, critical)

    return edit


def _critical(name: str) -> Callable[..., None]:
    def edit(extensions: dict[str, tuple[x509.ExtensionType, bool] | None]) -> None:
        entry = extensions[name]
        assert entry is not None
        extensions[name] = (entry[0], not entry[1])

    return edit


REFUSED = {
    # Accepted before the profile was stated in X.509 terms:
    "a CA certificate": _set("basic", x509.BasicConstraints(ca=True, path_length=None), True),
    "KeyUsage without digitalSignature": _set("usage", key_usage(key_agreement=True), True),
    "KeyUsage with keyCertSign": _set(
        "usage", key_usage(digital_signature=True, key_cert_sign=True), True
    ),
    "KeyUsage with cRLSign": _set("usage", key_usage(digital_signature=True, crl_sign=True), True),
    "no ExtendedKeyUsage": _set("purpose", None),
    "ExtendedKeyUsage serverAuth only": _set(
        "purpose", x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])
    ),
    "ExtendedKeyUsage anyExtendedKeyUsage only": _set(
        "purpose", x509.ExtendedKeyUsage([ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE])
    ),
    # Refused before too; stated now:
    "no BasicConstraints": _set("basic", None),
    "no KeyUsage": _set("usage", None),
    "KeyUsage not critical": _critical("usage"),
    "claims extension critical": _critical("claims"),
    "no claims extension": _set("claims", None),
    "an unknown critical extension": _set(
        "other",
        x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00"),
        True,
    ),
}

ACCEPTED = {
    "as the factory issues it": lambda extensions: None,
    "BasicConstraints not critical": _critical("basic"),
    "ExtendedKeyUsage critical": _critical("purpose"),
    "ExtendedKeyUsage clientAuth and serverAuth": _set(
        "purpose",
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
    ),
    "no AuthorityKeyIdentifier": _set("authority", None),
    "an unknown non-critical extension": _set(
        "other", x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00")
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_device_certificate_outside_the_profile_is_refused(name: str) -> None:
    chain = _issue(REFUSED[name])
    with pytest.raises(CertificateError):
        FACTORY.trust.verify_chain(chain, now=NOW)


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_a_device_certificate_inside_the_profile_is_accepted(name: str) -> None:
    claims, key = FACTORY.trust.verify_chain(_issue(ACCEPTED[name]), now=NOW)
    assert claims == CLAIMS
    assert isinstance(key.curve, ec.SECP256R1)


def test_a_ca_certificate_is_refused_even_after_a_valid_chain_anchored_its_intermediate() -> None:
    # The verifier short-cuts a known intermediate (identity.FactoryTrust.anchors); the profile
    # must hold on that path too.
    trust = FACTORY.trust
    trust.verify_chain(_issue(ACCEPTED["as the factory issues it"]), now=NOW)
    with pytest.raises(CertificateError, match="CA"):
        trust.verify_chain(_issue(REFUSED["a CA certificate"]), now=NOW)
