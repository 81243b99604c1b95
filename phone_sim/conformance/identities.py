"""Device identities the server trusts, for the kit's requests (PROTOCOL.md sections 3 and 3.4).

Two sources, as the user points the kit:

* a **factory directory** (``root.pem``, ``intermediate.pem``, ``intermediate.key``: what
  ``vendor-server serve --init-factory`` lays out): the kit issues as many devices as its cases
  need, and certificates that break one rule of the profile each (:mod:`.certificates`);
* **issued identities**, directories written by ``phone-sim factory issue`` (``device_key.pem``,
  ``device_chain.json``, ``claims.json``): one device each. Cases that need a device never
  seen before take one that has not been used; when none is left, or a case needs a certificate
  only the factory can make, the case is SKIPPED and says so.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from phone_sim.protocol.claims import DeviceClaims
from phone_sim.protocol.errors import CertificateError
from phone_sim.protocol.identity import chain_from_wire
from phone_sim.protocol.imei import make_imei

from .certificates import FactoryParts, device_chain
from .errors import CaseSkipped, KitSetupError

#: what the kit reports as firmware (not certified: any 1 to 64 characters, section 4)
FIRMWARE = "V12.5.1.0.RJOMIXM"
MODEL = "Redmi Note 9"
MARKET = "MI"
#: a type allocation code for the kit's IMEIs (any 8 digits do)
TAC = "86781299"
ISSUED_FILES = ("device_key.pem", "device_chain.json", "claims.json")


@dataclass(frozen=True)
class Identity:
    """One device: its certified claims, its P-256 key and its chain (DER, device first)."""

    claims: DeviceClaims
    key: ec.EllipticCurvePrivateKey = field(repr=False)
    chain: tuple[bytes, ...] = field(repr=False)
    firmware: str = FIRMWARE

    @property
    def serial(self) -> str:
        return self.claims.serial


class Identities:
    """The kit's devices: a shared one for most cases, fresh ones on demand."""

    def __init__(
        self, *, factory: FactoryParts | None = None, issued: Sequence[Identity] = ()
    ) -> None:
        #: the factory's signing parts, when the kit was given the factory
        self.factory = factory
        self._unused = list(issued)
        self._shared: Identity | None = None
        self.source = (
            f"factory {factory.directory}"
            if factory is not None
            else f"{len(issued)} issued identit{'y' if len(issued) == 1 else 'ies'}"
        )

    def shared(self) -> Identity:
        """The device most cases use (with issued identities, the first): its verdicts'
        sequence grows across the run.

        Raises:
            CaseSkipped: no factory and no issued identity.
        """
        if self._shared is None:
            if self.factory is not None:
                self._shared = issue(self.factory, new_claims())
            elif self._unused:
                self._shared = self._unused.pop(0)
            else:
                raise CaseSkipped("needs a device identity: give --factory or --device")
        return self._shared

    def fresh(self) -> Identity:
        """A device the server has not seen from this run.

        Raises:
            CaseSkipped: no factory, and every issued identity but the shared one is used.
        """
        if self.factory is not None:
            return issue(self.factory, new_claims())
        self.shared()  # the first issued identity stays the shared one
        if not self._unused:
            raise CaseSkipped(
                "needs a device identity not used yet: give --factory, or more --device "
                "directories (phone-sim factory issue)"
            )
        return self._unused.pop(0)


def issue(parts: FactoryParts, claims: DeviceClaims, **options: Any) -> Identity:
    """A new device key and its chain (``options`` as :func:`device_chain`'s)."""
    key = options.pop("key", None) or ec.generate_private_key(ec.SECP256R1())
    return Identity(claims, key, device_chain(parts, claims, key.public_key(), **options))


def new_claims(*, model: str = MODEL, market: str = MARKET) -> DeviceClaims:
    """Claims for a new device: a random serial of the protocol's syntax, two valid IMEIs."""
    serial = "CK" + secrets.token_hex(6).upper()
    base = secrets.randbelow(999_000)
    return DeviceClaims(serial, (make_imei(TAC, base), make_imei(TAC, base + 1)), model, market)


def open_factory(directory: Path) -> FactoryParts:
    """The factory in ``directory`` (read, never created: ``Factory.open`` would make one)."""
    names = ("root.pem", "intermediate.pem", "intermediate.key")
    missing = [name for name in names if not (directory / name).is_file()]
    if missing:
        raise KitSetupError(
            f"{directory}: not a factory directory (missing {', '.join(missing)}); "
            "`vendor-server serve --init-factory` makes one"
        )
    try:
        root = x509.load_pem_x509_certificate((directory / "root.pem").read_bytes())
        intermediate = x509.load_pem_x509_certificate((directory / "intermediate.pem").read_bytes())
        key = serialization.load_pem_private_key(
            (directory / "intermediate.key").read_bytes(), None
        )
    except (OSError, ValueError, TypeError) as exc:
        raise KitSetupError(f"{directory}: cannot read the factory: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KitSetupError(f"{directory}/intermediate.key: not an ECDSA key")
    return FactoryParts(directory, root, intermediate, key)


def load_issued(directory: Path) -> Identity:
    """An identity written by ``phone-sim factory issue --out DIRECTORY``."""
    missing = [n for n in ISSUED_FILES if not (directory / n).is_file()]
    if missing:
        raise KitSetupError(
            f"{directory}: not an issued identity (missing {', '.join(missing)}); "
            "`phone-sim factory issue --out DIR` writes one"
        )
    try:
        key = serialization.load_pem_private_key((directory / "device_key.pem").read_bytes(), None)
        chain_doc = json.loads((directory / "device_chain.json").read_text(encoding="utf-8"))
        claims = DeviceClaims.from_json((directory / "claims.json").read_bytes().strip())
        chain = chain_from_wire(chain_doc["certificates"])
    except (OSError, ValueError, KeyError, TypeError, CertificateError) as exc:
        raise KitSetupError(f"{directory}: cannot read the identity: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise KitSetupError(f"{directory}/device_key.pem: not an ECDSA P-256 key")
    return Identity(claims, key, tuple(chain))
