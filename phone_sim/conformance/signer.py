"""RFC 9421 request signatures as PROTOCOL.md section 5 describes them, with every part exposed.

The kit signs its requests here, not through the server's code: a correct signature is the
section's three components and four parameters; a case changes one thing (a component left out,
the parameters in another order, ``alg`` as a token, another label) and the kit still signs
what it then sends, so that the request breaks exactly that rule and no other.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from .wire import Request

ALG = "ecdsa-p256-sha256"
LABEL = "device"
COMPONENTS = ("@method", "@target-uri", "content-digest")


@dataclass(frozen=True)
class Raw:
    """A parameter value written as given (a token, a malformed value)."""

    text: str


ParamValue = int | str | Raw


def sf_value(value: ParamValue) -> str:
    """An RFC 8941 bare item: an integer, a string (quoted), or :class:`Raw` as written."""
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, bool):
        raise TypeError("no booleans in signature parameters")
    if isinstance(value, int):
        return str(value)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass
class Signature:
    """What the signature covers and says: label, components, parameters in order."""

    components: list[str] = field(default_factory=lambda: list(COMPONENTS))
    params: list[tuple[str, ParamValue]] = field(default_factory=list)
    label: str = LABEL

    def param(self, name: str) -> ParamValue | None:
        return next((v for k, v in self.params if k == name), None)

    def set_param(self, name: str, value: ParamValue | None) -> None:
        """Change a parameter where it stands, add it last, or (None) remove it."""
        if value is None:
            self.params = [(k, v) for k, v in self.params if k != name]
        elif any(k == name for k, _ in self.params):
            self.params = [(k, value if k == name else v) for k, v in self.params]
        else:
            self.params.append((name, value))

    def inner_list(self) -> str:
        """``("@method" ...);created=...;keyid="..."``: the signature-params value."""
        inner = " ".join(f'"{c}"' for c in self.components)
        return f"({inner})" + "".join(f";{k}={sf_value(v)}" for k, v in self.params)


def digest(body: bytes, algorithm: str = "sha-256") -> str:
    """An RFC 9530 Content-Digest member, ``sha-256=:...:``."""
    hashed = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}[algorithm](body).digest()
    return f"{algorithm}=:{base64.b64encode(hashed).decode()}:"


def base(signature: Signature, values: dict[str, str]) -> bytes:
    """The signature base (RFC 9421 section 2.5): one line per component, then the params."""
    lines = [f'"{c}": {values[c]}' for c in signature.components]
    lines.append(f'"@signature-params": {signature.inner_list()}')
    return "\n".join(lines).encode()


def sign_p256(key: ec.EllipticCurvePrivateKey, message: bytes) -> bytes:
    """ECDSA P-256 with SHA-256 as the 64-byte ``r || s`` (RFC 9421 section 3.3.4)."""
    r, s = decode_dss_signature(key.sign(message, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def byte_sequence(raw: bytes) -> str:
    return f":{base64.b64encode(raw).decode()}:"


def flip_signature(request: Request) -> None:
    """Flip one bit of the request's signature: it no longer verifies."""
    label, _, value = (request.header("Signature") or "").partition("=")
    raw = bytearray(base64.b64decode(value.strip(":")))
    raw[10] ^= 0x01
    request.set("Signature", f"{label}={byte_sequence(bytes(raw))}")
