"""The device claims a factory certificate carries (PROTOCOL.md section 3.2), and the name it
gives the device.

The claims travel as JSON inside a private X.509 extension. Readers parse it strictly (UTF-8, no
duplicate keys) and accept exactly the four specified keys with their types: a certificate
whose claims could be read two ways, or that carries more than was specified, is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from .canonical import parse_json
from .errors import CertificateError, MalformedMessage
from .imei import is_valid_imei

#: the keys the claims extension holds, no more and no fewer
CLAIM_KEYS = frozenset({"imeis", "market", "model", "serial"})
#: X.509's upper bound on a common name (ub-common-name, RFC 5280 appendix A.1)
UB_COMMON_NAME = 64


@dataclass(frozen=True)
class DeviceClaims:
    """What the factory certified about a device."""

    serial: str
    imeis: tuple[str, ...]
    model: str
    market: str

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "serial": self.serial,
                "imeis": list(self.imeis),
                "model": self.model,
                "market": self.market,
            },
            sort_keys=True,
            separators=(",", ":"),
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> DeviceClaims:
        """Read the extension: strict JSON (no duplicate keys, UTF-8) with exactly the four keys.

        Raises:
            CertificateError: naming what is wrong.
        """
        try:
            data = parse_json(raw, what="device claims extension")
        except MalformedMessage as exc:
            raise CertificateError(str(exc)) from exc
        if not isinstance(data, dict) or set(data) != CLAIM_KEYS:
            found = sorted(data) if isinstance(data, dict) else type(data).__name__
            raise CertificateError(
                f"device claims extension must hold exactly {sorted(CLAIM_KEYS)}, not {found}"
            )
        imeis = data["imeis"]
        strings = [data["serial"], data["model"], data["market"]]
        if not isinstance(imeis, list) or not all(isinstance(v, str) for v in [*strings, *imeis]):
            raise CertificateError(
                "device claims: serial, model and market are strings, imeis a list of strings"
            )
        claims = cls(
            serial=data["serial"], imeis=tuple(imeis), model=data["model"], market=data["market"]
        )
        if not claims.imeis or not all(is_valid_imei(i) for i in claims.imeis):
            raise CertificateError("device certificate carries an invalid IMEI")
        return claims


def device_common_name(model: str, serial: str) -> str:
    """The device certificate's CN: ``<model> <serial>``, at most 64 (X.509's ub-common-name;
    ``cryptography`` counts them as UTF-8 bytes). A longer one shortens the model, marked
    ``...``; the serial, which is also the subject's serialNumber, stays whole unless it alone
    is too long."""
    full = f"{model} {serial}"
    if _size(full) <= UB_COMMON_NAME:
        return full
    room = UB_COMMON_NAME - _size(serial) - len("... ")
    if room < 1:
        return _cut(serial, UB_COMMON_NAME)
    return f"{_cut(model, room)}... {serial}"


def _size(text: str) -> int:
    return len(text.encode())


def _cut(text: str, size: int) -> str:
    """The longest start of ``text`` that takes at most ``size`` UTF-8 bytes."""
    return text.encode()[:size].decode(errors="ignore")
