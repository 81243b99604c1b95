"""Cases on the device's identity: its certificate chain and its claims (PROTOCOL.md sections
3 and 6, checks 4 and 7).

A broken certificate certifies the twin's own claims for the twin's own key, so the request is
signed by the certified key as always and only the certificate breaks a rule. Certificates the
factory must sign (expired, a CA, without clientAuth...) need ``--factory``; a chain from
another factory, or a body that claims what the certificate does not, need only a device.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from phone_sim.protocol.imei import make_imei

from .certificates import (
    EPOCH,
    Edit,
    FactoryParts,
    claims_json,
    device_chain,
    flipping,
    key_usage,
    setting,
)
from .context import Kit
from .drafts import Draft
from .errors import CaseSkipped
from .registry import Case, negative

CERTIFICATE = (403, "certificate_invalid")
Change = Callable[[Kit, Draft], None]


def _b64(chain: tuple[bytes, ...] | list[bytes]) -> list[str]:
    return [base64.b64encode(der).decode() for der in chain]


def _parts(kit: Kit) -> FactoryParts:
    parts = kit.identities.factory
    if parts is None:  # the runner skips factory cases first; this is belt and braces
        raise CaseSkipped("needs the factory directory (--factory)")
    return parts


def _certificate(**options: Any) -> Change:
    """The twin's claims and key, certified by a device certificate changed by ``options``."""

    def change(kit: Kit, draft: Draft) -> None:
        identity = draft.identity
        chain = device_chain(_parts(kit), identity.claims, identity.key.public_key(), **options)
        draft.body["certificates"] = _b64(chain)

    return change


def _edit(edit: Edit) -> Change:
    return _certificate(edit=edit)


def _claims(data: Callable[[dict[str, Any]], bytes]) -> Change:
    def change(kit: Kit, draft: Draft) -> None:
        claims = draft.identity.claims
        value = {
            "imeis": list(claims.imeis),
            "market": claims.market,
            "model": claims.model,
            "serial": claims.serial,
        }
        _certificate(claims_bytes=data(value))(kit, draft)

    return change


def _p384(kit: Kit, draft: Draft) -> None:
    identity = draft.identity
    key = ec.generate_private_key(ec.SECP384R1())
    draft.body["certificates"] = _b64(device_chain(_parts(kit), identity.claims, key.public_key()))


def _rogue_factory(kit: Kit, draft: Draft) -> None:
    """A factory of the kit's own (same names, other keys) certifies the twin's claims."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    line_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "phone-sim factory"),
            x509.NameAttribute(NameOID.COMMON_NAME, "phone-sim factory line 1"),
        ]
    )
    intermediate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(line_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(EPOCH)
        .not_valid_after(EPOCH + dt.timedelta(days=7300))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(key_cert_sign=True, crl_sign=True), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    # Only the intermediate and its key sign the device certificate; the root is not sent.
    rogue = FactoryParts(Path("(the kit's own factory)"), intermediate, intermediate, line_key)
    identity = draft.identity
    draft.body["certificates"] = _b64(
        device_chain(rogue, identity.claims, identity.key.public_key())
    )


def _body_device(key: str, value: Callable[[Draft], Any], *, imeis: int = 1) -> Change:
    def change(kit: Kit, draft: Draft) -> None:
        if len(draft.identity.claims.imeis) < imeis:
            raise CaseSkipped(f"needs a device with {imeis} IMEIs (give --factory)")
        draft.body["device"][key] = value(draft)

    return change


def _other_serial(draft: Draft) -> str:
    serial = draft.identity.serial
    return ("Y" if serial[0] == "X" else "X") + serial[1:]


CASES: list[Case] = [
    negative("CRT-01", "a chain from another factory", "3.3, 6", *CERTIFICATE, _rogue_factory),
    negative(
        "CRT-02",
        "the device certificate without its intermediate",
        "3.3",
        *CERTIFICATE,
        lambda kit, d: d.body.__setitem__("certificates", d.body["certificates"][:1]),
    ),
    negative(
        "CRT-04",
        "a certificate that is not base64",
        "3.3, 9",
        *CERTIFICATE,
        lambda kit, d: d.body["certificates"].__setitem__(0, "not base64!"),
    ),
    negative(
        "CRT-05",
        "base64 of bytes that are not DER",
        "3.3, 9",
        *CERTIFICATE,
        lambda kit, d: d.body["certificates"].__setitem__(0, "AAAA"),
    ),
    negative(
        "CRT-06",
        "an expired device certificate",
        "3.3",
        *CERTIFICATE,
        _certificate(not_after=EPOCH + dt.timedelta(days=365)),
        factory=True,
    ),
    negative(
        "CRT-07",
        "a device certificate not valid yet",
        "3.3",
        *CERTIFICATE,
        _certificate(not_before=dt.datetime(2099, 1, 1, tzinfo=dt.UTC)),
        factory=True,
    ),
    negative(
        "CRT-08",
        "a device certificate that is a CA",
        "3.3",
        *CERTIFICATE,
        _edit(setting("basic", x509.BasicConstraints(ca=True, path_length=None), True)),
        factory=True,
    ),
    negative(
        "CRT-09",
        "a device certificate without BasicConstraints",
        "3.3",
        *CERTIFICATE,
        _edit(setting("basic", None)),
        factory=True,
    ),
    negative(
        "CRT-10",
        "KeyUsage without digitalSignature",
        "3.3",
        *CERTIFICATE,
        _edit(setting("usage", key_usage(key_agreement=True), True)),
        factory=True,
    ),
    negative(
        "CRT-11",
        "KeyUsage with keyCertSign",
        "3.3",
        *CERTIFICATE,
        _edit(setting("usage", key_usage(digital_signature=True, key_cert_sign=True), True)),
        factory=True,
    ),
    negative(
        "CRT-12",
        "KeyUsage not critical",
        "3.3",
        *CERTIFICATE,
        _edit(flipping("usage")),
        factory=True,
    ),
    negative(
        "CRT-13",
        "ExtendedKeyUsage without clientAuth (serverAuth only)",
        "3.3",
        *CERTIFICATE,
        _edit(setting("purpose", x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]))),
        factory=True,
    ),
    negative(
        "CRT-14",
        "no ExtendedKeyUsage",
        "3.3",
        *CERTIFICATE,
        _edit(setting("purpose", None)),
        factory=True,
    ),
    negative(
        "CRT-15",
        "the claims extension critical",
        "3.2, 3.3",
        *CERTIFICATE,
        _edit(flipping("claims")),
        factory=True,
    ),
    negative(
        "CRT-16",
        "no claims extension",
        "3.2, 3.3",
        *CERTIFICATE,
        _edit(setting("claims", None)),
        factory=True,
    ),
    negative(
        "CRT-17",
        "an unknown critical extension",
        "3.3",
        *CERTIFICATE,
        _edit(
            setting(
                "other",
                x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.57264.7.99"), b"\x05\x00"),
                True,
            )
        ),
        factory=True,
    ),
    negative(
        "CRT-19",
        "claims with a key more",
        "3.2",
        *CERTIFICATE,
        _claims(lambda c: claims_json(c | {"colour": "blue"})),
        factory=True,
    ),
    negative(
        "CRT-20",
        "claims with a key twice",
        "3.2",
        *CERTIFICATE,
        _claims(lambda c: claims_json(c).replace(b'"market"', b'"market":"MI","market"', 1)),
        factory=True,
    ),
    negative(
        "CRT-21",
        "claims that are not JSON",
        "3.2",
        *CERTIFICATE,
        _claims(lambda c: b"\xff" + claims_json(c)),
        factory=True,
    ),
    negative(
        "CRT-22",
        "a P-384 device key",
        "3.3",
        *CERTIFICATE,
        _p384,
        factory=True,
        note="two rules: the request cannot be signed by a P-256 key the certificate names",
    ),
    negative(
        "CLM-01",
        "the body's serial is not the certified one",
        "6",
        *CERTIFICATE,
        _body_device("serial", _other_serial),
    ),
    negative(
        "CLM-02",
        "the IMEIs in another order",
        "6",
        *CERTIFICATE,
        _body_device("imeis", lambda d: list(reversed(d.identity.claims.imeis)), imeis=2),
    ),
    negative(
        "CLM-03",
        "one IMEI left out",
        "6",
        *CERTIFICATE,
        _body_device("imeis", lambda d: list(d.identity.claims.imeis[:1]), imeis=2),
    ),
    negative(
        "CLM-04",
        "an IMEI of another device",
        "6",
        *CERTIFICATE,
        _body_device("imeis", lambda d: [make_imei("35000000", 1), *d.identity.claims.imeis[1:]]),
    ),
    negative(
        "CLM-05",
        "another model",
        "6",
        *CERTIFICATE,
        _body_device("model", lambda d: d.identity.claims.model + " Pro"),
    ),
    negative(
        "CLM-06",
        "another market",
        "6",
        *CERTIFICATE,
        _body_device("market", lambda d: "CN" if d.identity.claims.market != "CN" else "EU"),
    ),
]
