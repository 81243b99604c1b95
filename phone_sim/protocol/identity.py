"""Device identity from a simulated factory: an ECDSA P-256 X.509 CA (root and intermediate).

The factory issues each simulated phone a certificate that carries its IMEI(s), serial, model
and market in a private extension. The vendor server trusts only the factory root and reads the
device's claims from a chain it has verified. P-256 rather than Ed25519 because cryptography's
X.509 chain verifier does not accept Ed25519 certificates.
"""

from __future__ import annotations

import base64
import datetime as dt
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from cryptography.x509.verification import (
    ClientVerifier,
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from .chain_cache import VerifiedChains, validity
from .claims import DeviceClaims as DeviceClaims  # re-exported: callers import it from here
from .claims import device_common_name
from .errors import CertificateError
from .keys import load_private_key, write_private_key

#: Private-arc OID of the extension that carries the device claims as canonical JSON.
DEVICE_CLAIMS_OID = ObjectIdentifier("1.3.6.1.4.1.57264.7.1")

ROOT_VALIDITY = dt.timedelta(days=365 * 30)
INTERMEDIATE_VALIDITY = dt.timedelta(days=365 * 20)
# Device certificates must outlive today's wall clock too (EPOCH + 10 years ended in 2025).
DEVICE_VALIDITY = dt.timedelta(days=365 * 20)
#: Certificates are back-dated so a simulated clock set to 2021 still finds them valid.
EPOCH = dt.datetime(2015, 1, 1, tzinfo=dt.UTC)
#: intermediates remembered as verified (a factory has a few production lines)
ANCHORS = 64


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "phone-sim factory"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def device_subject(claims: DeviceClaims) -> x509.Name:
    """The device certificate's subject (PROTOCOL.md section 3.2): organisation, the serial as
    serialNumber and ``<model> <serial>`` as CN, shortened to X.509's limit."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "phone-sim devices"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, claims.serial),
            x509.NameAttribute(
                NameOID.COMMON_NAME, device_common_name(claims.model, claims.serial)
            ),
        ]
    )


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    """CAs sign certificates; devices sign requests. Nothing else is allowed either."""
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _ca_certificate(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer_name: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    validity: dt.timedelta,
    path_length: int,
) -> x509.Certificate:
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer_name)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(EPOCH)
        .not_valid_after(EPOCH + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class FactoryTrust:
    """What a verifier needs: the factory root certificate.

    Frozen in what it trusts (the root); its caches change, each behind a lock, so one
    instance serves every thread of the server (the request thread pool verifies at once).
    """

    root: x509.Certificate
    #: results of chains that verified, reused while every certificate is still valid
    verified: VerifiedChains[tuple[DeviceClaims, ec.EllipticCurvePublicKey]] = field(
        default_factory=VerifiedChains, compare=False, repr=False
    )
    #: intermediates that chained to the root in a verified chain: the anchors of later leaves
    anchors: VerifiedChains[x509.Certificate] = field(
        default_factory=lambda: VerifiedChains(size=ANCHORS), compare=False, repr=False
    )
    _verifiers: dict[bytes, tuple[dt.datetime, ClientVerifier]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    _verifiers_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, compare=False, repr=False
    )

    @classmethod
    def load(cls, path: Path) -> FactoryTrust:
        return cls(x509.load_pem_x509_certificate(path.read_bytes()))

    def verify_chain(
        self, chain_der: list[bytes], *, now: dt.datetime
    ) -> tuple[DeviceClaims, ec.EllipticCurvePublicKey]:
        """Verify a leaf + intermediate chain against the root at ``now``; return the device's claims and key.

        Raises:
            CertificateError: the chain is malformed, does not reach the root, or is not valid at ``now``.
        """
        if not 1 <= len(chain_der) <= 3:
            raise CertificateError(
                "certificate chain must hold the device certificate and its intermediate"
            )
        utc = now.astimezone(dt.UTC)
        known = self.verified.get(chain_der, utc)
        if known is not None:
            return known
        try:
            certs = [x509.load_der_x509_certificate(der) for der in chain_der]
        except (ValueError, x509.InvalidVersion) as exc:  # InvalidVersion is no ValueError
            raise CertificateError(f"certificate is not valid DER: {exc}") from exc
        leaf, intermediates = certs[0], certs[1:]
        at = utc.replace(tzinfo=None)
        # A chain whose intermediate already chained to the root, in a chain verified before,
        # needs only its leaf checked: one signature, not two. What made the intermediate a
        # valid issuer depends on nothing but the time, and the anchors keep it only while the
        # intermediate and the root are both valid. Only an acceptance is short-cut: a leaf the
        # anchor refuses goes through the whole path, which decides (and words the refusal).
        anchor = self.anchors.get(chain_der[1:], utc) if len(chain_der) == 2 else None
        if anchor is None or not self._verifies(anchor, at, leaf):
            try:
                path = self._verifier(self.root, at).verify(leaf, intermediates).chain
            except VerificationError as exc:
                raise CertificateError(
                    f"device certificate does not chain to the factory root: {exc}"
                ) from exc
            # Leaf, the intermediate it went through, root; and a root that places no name
            # constraints on the leaves below it (the anchored path would not check them).
            if len(path) == 3 and not _constrains_names(self.root):
                used = path[1].public_bytes(serialization.Encoding.DER)
                self.anchors.put([used], path[1], validity(path[1:]))
        _check_device_profile(leaf)
        try:
            ext = leaf.extensions.get_extension_for_oid(DEVICE_CLAIMS_OID)
        except x509.ExtensionNotFound as exc:
            raise CertificateError("device certificate carries no device claims") from exc
        assert isinstance(ext.value, x509.UnrecognizedExtension)
        public = leaf.public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey) or not isinstance(
            public.curve, ec.SECP256R1
        ):
            raise CertificateError("device key must be ECDSA P-256")
        result = DeviceClaims.from_json(ext.value.value), public
        self.verified.put(chain_der, result, validity([*certs, self.root]))
        return result

    def _verifies(self, anchor: x509.Certificate, at: dt.datetime, leaf: x509.Certificate) -> bool:
        try:
            self._verifier(anchor, at).verify(leaf, [])
        except VerificationError:
            return False
        return True

    def _verifier(self, anchor: x509.Certificate, at: dt.datetime) -> ClientVerifier:
        """The verifier trusting only ``anchor`` at ``at``, reused while the time is the same.

        (Building one and its first use cost about 30 µs; a frozen or simulated clock asks for
        the same time again and again.)
        """
        key = anchor.fingerprint(hashes.SHA256())
        with self._verifiers_lock:
            cached = self._verifiers.get(key)
        if cached is not None and cached[0] == at:
            return cached[1]
        # Built outside the lock (verifiers are immutable): two threads may both build one.
        verifier = (
            PolicyBuilder()
            .store(Store([anchor]))
            .time(at)
            .max_chain_depth(2)
            .extension_policies(
                ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_device_ee_policy()
            )
            .build_client_verifier()
        )
        with self._verifiers_lock:
            if len(self._verifiers) >= ANCHORS:
                self._verifiers.clear()
            self._verifiers[key] = (at, verifier)
        return verifier


def _constrains_names(certificate: x509.Certificate) -> bool:
    try:
        certificate.extensions.get_extension_for_class(x509.NameConstraints)
    except x509.ExtensionNotFound:
        return False
    return True


def _device_ee_policy() -> ExtensionPolicy:
    # Device certificates name no DNS host, so the WebPKI end-entity policy (which wants a SAN)
    # is replaced by one that asks for what we actually issue; _check_device_profile checks
    # the values (PROTOCOL.md section 3.3).
    return (
        ExtensionPolicy.permit_all()
        .require_present(x509.BasicConstraints, Criticality.AGNOSTIC, None)
        .require_present(x509.KeyUsage, Criticality.CRITICAL, None)
        .require_present(x509.ExtendedKeyUsage, Criticality.AGNOSTIC, None)
    )


def _check_device_profile(leaf: x509.Certificate) -> None:
    """The device certificate's profile in X.509 terms (PROTOCOL.md section 3.3), beyond the
    presence and criticality the path validation checked: not a CA, a signing key and nothing
    else a CA's, and issued for client authentication.

    Raises:
        CertificateError: naming the extension that is wrong.
    """
    constraints = leaf.extensions.get_extension_for_class(x509.BasicConstraints).value
    if constraints.ca:
        raise CertificateError("device certificate must not be a CA (BasicConstraints cA TRUE)")
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    if not usage.digital_signature or usage.key_cert_sign or usage.crl_sign:
        raise CertificateError(
            "device certificate KeyUsage must assert digitalSignature, and not keyCertSign "
            "or cRLSign"
        )
    purposes = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    if ExtendedKeyUsageOID.CLIENT_AUTH not in purposes:
        raise CertificateError("device certificate ExtendedKeyUsage must include clientAuth")


class Factory:
    """The simulated factory CA: a root that verifiers trust and an intermediate that signs devices."""

    def __init__(
        self,
        root_cert: x509.Certificate,
        intermediate_cert: x509.Certificate,
        intermediate_key: ec.EllipticCurvePrivateKey,
    ) -> None:
        self.root_cert = root_cert
        self.intermediate_cert = intermediate_cert
        self._intermediate_key = intermediate_key

    @property
    def trust(self) -> FactoryTrust:
        return FactoryTrust(self.root_cert)

    @classmethod
    def create(cls) -> Factory:
        root_key = ec.generate_private_key(ec.SECP256R1())
        root_name = _name("phone-sim factory root")
        root = _ca_certificate(
            "phone-sim factory root", root_key, root_name, root_key, ROOT_VALIDITY, 1
        )
        inter_key = ec.generate_private_key(ec.SECP256R1())
        inter = _ca_certificate(
            "phone-sim factory line 1", inter_key, root_name, root_key, INTERMEDIATE_VALIDITY, 0
        )
        return cls(root, inter, inter_key)

    @classmethod
    def open(cls, directory: Path) -> Factory:
        """Load the factory kept in ``directory``, creating it on first use."""
        root_path = directory / "root.pem"
        if not root_path.exists():
            factory = cls.create()
            factory.save(directory)
            return factory
        return cls(
            x509.load_pem_x509_certificate(root_path.read_bytes()),
            x509.load_pem_x509_certificate((directory / "intermediate.pem").read_bytes()),
            _ec_key(load_private_key(directory / "intermediate.key")),
        )

    def save(self, directory: Path) -> None:
        # The root's private key is not kept: nothing after creation needs it.
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "root.pem").write_bytes(
            self.root_cert.public_bytes(serialization.Encoding.PEM)
        )
        (directory / "intermediate.pem").write_bytes(
            self.intermediate_cert.public_bytes(serialization.Encoding.PEM)
        )
        write_private_key(directory / "intermediate.key", self._intermediate_key)

    def issue(
        self,
        claims: DeviceClaims,
        public_key: ec.EllipticCurvePublicKey,
        *,
        not_before: dt.datetime = EPOCH,
        validity: dt.timedelta = DEVICE_VALIDITY,
    ) -> list[bytes]:
        """A DER chain (device certificate, intermediate) certifying ``claims`` for ``public_key``."""
        cert = (
            x509.CertificateBuilder()
            .subject_name(device_subject(claims))
            .issuer_name(self.intermediate_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(not_before + validity)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self._intermediate_key.public_key()
                ),
                critical=False,
            )
            .add_extension(
                x509.UnrecognizedExtension(DEVICE_CLAIMS_OID, claims.to_json()), critical=False
            )
            .sign(self._intermediate_key, hashes.SHA256())
        )
        return [
            cert.public_bytes(serialization.Encoding.DER),
            self.intermediate_cert.public_bytes(serialization.Encoding.DER),
        ]


def _ec_key(key: object) -> ec.EllipticCurvePrivateKey:
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateError("factory intermediate key must be ECDSA P-256")
    return key


def chain_to_wire(chain_der: list[bytes]) -> list[str]:
    return [base64.b64encode(der).decode() for der in chain_der]


def chain_from_wire(items: list[str]) -> list[bytes]:
    try:
        return [base64.b64decode(item, validate=True) for item in items]
    except (ValueError, TypeError) as exc:
        raise CertificateError("certificate chain entries must be base64 DER") from exc
