"""A request before it is sent: the body as a JSON value, the signature, and any one break.

:class:`Draft` holds what a request is made of; the kit turns it into bytes on the wire
(:meth:`phone_sim.conformance.context.Kit.build`). A negative case takes a valid draft and
changes one thing: the body (:attr:`Draft.body`, or :attr:`Draft.raw` for bytes no JSON
encoder writes), the signature (:attr:`Draft.signature`), what the signature names
(:attr:`Draft.signed_uri`), the headers, or the request as sent (:attr:`Draft.after`).
"""

from __future__ import annotations

import copy
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from .identities import Identity
from .signer import Signature
from .wire import Request

ACTIVATION = "/v1/activation"
CHECKIN = "/v1/checkin"
ACCOUNT = "/v1/account"
TIME = "/v1/time"
JSON = "application/json"
#: a German SIM at home (Telekom, 262-01): activates under any policy the kit knows
GERMAN = ("262", "01")


def canonical(value: Any) -> bytes:
    """PROTOCOL.md section 1: RFC 8785 for the values of our messages."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def new_nonce() -> str:
    """16 to 64 characters of ``A-Z a-z 0-9 _ -`` (section 4): 24 here."""
    return secrets.token_urlsafe(18)


def sim(
    home: tuple[str, str] = GERMAN,
    *,
    serving: tuple[str, str] | None = None,
    slot: int = 1,
    roaming: bool | None = None,
) -> dict[str, Any]:
    """A ``SimReport`` (section 4); serving defaults to home, roaming to serving != home."""
    serving = home if serving is None else serving
    return {
        "slot": slot,
        "iccid": f"89{home[0]}{home[1]:0>3}{slot:012d}",
        "home_mcc": home[0],
        "home_mnc": home[1],
        "serving_mcc": serving[0],
        "serving_mnc": serving[1],
        "roaming": serving != home if roaming is None else roaming,
    }


def activation_body(
    identity: Identity, certificates: list[str], nonce: str, sims: list[dict[str, Any]]
) -> dict[str, Any]:
    """An ``ActivationRequest`` (section 4) for ``identity``, every field given."""
    claims = identity.claims
    return {
        "protocol": 1,
        "device": {
            "serial": claims.serial,
            "imeis": list(claims.imeis),
            "model": claims.model,
            "market": claims.market,
            "firmware": identity.firmware,
            "bootloader_unlocked": False,
        },
        "sims": sims,
        "nonce": nonce,
        "certificates": certificates,
    }


@dataclass
class Draft:
    """One request as the kit will build it (module docstring)."""

    identity: Identity
    body: Any
    signature: Signature
    path: str = ACTIVATION
    method: str = "POST"
    #: the bytes to send instead of the canonical form of ``body``
    raw: bytes | None = None
    #: the Content-Digest to send instead of ``sha-256`` of the body
    digest_header: str | None = None
    #: the @target-uri the signature names instead of the one the request goes to
    signed_uri: str | None = None
    #: the Host header instead of the server's authority
    host: str | None = None
    content_type: str | None = JSON
    #: the key that signs instead of the device's own
    signing_key: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)
    #: False: no Signature-Input and no Signature at all
    signed: bool = True
    #: header lines added before signing (so a signature may cover them)
    extra_headers: list[tuple[str, str]] = field(default_factory=list)
    #: changes to the request as it would be sent, after signing
    after: list[Callable[[Request], None]] = field(default_factory=list)

    @property
    def nonce(self) -> str:
        value = self.body.get("nonce") if isinstance(self.body, dict) else None
        return value if isinstance(value, str) else ""

    def copy(self) -> Draft:
        """A copy whose body, signature and edits can change without touching this one."""
        twin = copy.copy(self)
        twin.body = copy.deepcopy(self.body)
        twin.signature = copy.deepcopy(self.signature)
        twin.extra_headers = list(self.extra_headers)
        twin.after = list(self.after)
        return twin

    def renonce(self, nonce: str | None = None) -> Draft:
        """This draft with a new nonce, in the body and in the signature (in place)."""
        nonce = nonce or new_nonce()
        if isinstance(self.body, dict):
            self.body["nonce"] = nonce
        if self.signature.param("nonce") is not None:
            self.signature.set_param("nonce", nonce)
        return self
