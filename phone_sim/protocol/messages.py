"""Protocol messages: what the phone reports and the verdict the vendor answers with.

Schemas are closed (unknown fields are refused) and strict (no type coercion): a request that
the server did not understand exactly is an error, never a guess. The same models produce the
server's OpenAPI schema, so the documentation cannot drift from the code.
"""

from __future__ import annotations

import base64
import functools
from typing import Annotated, Self, TypeVar

from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from .canonical import canonical_json, parse_json, require_canonical
from .errors import MalformedMessage, PayloadTooLarge
from .imei import is_valid_imei, is_valid_mcc, is_valid_mnc
from .lock_screen import ContactEmail, ContactPhone, LockWarning
from .versions import LATEST_PROTOCOL as LATEST_PROTOCOL
from .versions import MAX_BODY_BYTES as MAX_BODY_BYTES
from .versions import PROTOCOL_V2 as PROTOCOL_V2
from .versions import PROTOCOL_VERSION as PROTOCOL_VERSION
from .versions import VerdictStatus as VerdictStatus


def _imei(value: str) -> str:
    if not is_valid_imei(value):
        raise ValueError("IMEI must be 15 digits with a valid Luhn check digit")
    return value


def _mcc(value: str) -> str:
    if not is_valid_mcc(value):
        raise ValueError("MCC must be three digits (200-799)")
    return value


def _mnc(value: str) -> str:
    if not is_valid_mnc(value):
        raise ValueError("MNC must be two or three digits")
    return value


# The validators decide; the patterns only put the syntax into the JSON schema (and so the
# OpenAPI document), so a client built from it does not send what is refused anyway. A Luhn check
# digit cannot be written as a pattern.
Imei = Annotated[
    str,
    AfterValidator(_imei),
    Field(json_schema_extra={"pattern": "^[0-9]{15}$"}, description="15 digits, Luhn-valid"),
]
Mcc = Annotated[str, AfterValidator(_mcc), Field(json_schema_extra={"pattern": "^[2-7][0-9]{2}$"})]
Mnc = Annotated[str, AfterValidator(_mnc), Field(json_schema_extra={"pattern": "^[0-9]{2,3}$"})]
Nonce = Annotated[str, Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class _Closed(BaseModel):
    # Validators are built on first use, not at import (subclasses inherit it): a phone's first
    # frame needs the classes, not their validators (docs/decisions/tui-first-frame-imports.md).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)


class SimReport(_Closed):
    """One occupied SIM slot as the phone sees it."""

    slot: int = Field(ge=1, le=2)
    iccid: str = Field(pattern=r"^89[0-9]{16,18}$", description="19-20 digit ICCID")
    home_mcc: Mcc = Field(description="MCC of the SIM's home operator, from its IMSI")
    home_mnc: Mnc = Field(description="MNC of the SIM's home operator, from its IMSI")
    serving_mcc: Mcc | None = Field(default=None, description="network camped on; null if none")
    serving_mnc: Mnc | None = None
    roaming: bool = False

    @model_validator(mode="after")
    def _serving_consistent(self) -> Self:
        if (self.serving_mcc is None) != (self.serving_mnc is None):
            raise ValueError("serving_mcc and serving_mnc go together")
        return self

    @property
    def home(self) -> str:
        return f"{self.home_mcc}-{self.home_mnc}"

    @property
    def serving(self) -> str | None:
        return None if self.serving_mcc is None else f"{self.serving_mcc}-{self.serving_mnc}"


class DeviceReport(_Closed):
    """Who the device says it is. The server checks it against the factory certificate."""

    serial: str = Field(min_length=4, max_length=32, pattern=r"^[A-Za-z0-9]+$")
    imeis: list[Imei] = Field(min_length=1, max_length=2)
    model: str = Field(min_length=1, max_length=64)
    market: str = Field(pattern=r"^[A-Z]{2}$")
    firmware: str = Field(min_length=1, max_length=64)
    bootloader_unlocked: bool = False


class ActivationRequest(_Closed):
    """Body of ``POST /v1/activation`` (and of check-ins): device, SIMs, nonce, certificate chain.

    ``protocol`` 2 asks for a version 2 verdict (PROTOCOL.md sections 7.2 and 13); 1 (or none)
    gets version 1's bytes. A version 1 server refuses 2, and the phone asks again with 1
    (section 12).
    """

    protocol: int = Field(default=PROTOCOL_VERSION, ge=1, le=LATEST_PROTOCOL)
    device: DeviceReport
    sims: list[SimReport] = Field(max_length=2)
    nonce: Nonce
    certificates: list[Annotated[str, Field(max_length=4096)]] = Field(min_length=1, max_length=3)

    @model_validator(mode="after")
    def _slots_unique(self) -> Self:
        slots = [s.slot for s in self.sims]
        if len(slots) != len(set(slots)):
            raise ValueError("each SIM slot may appear once")
        return self

    def encode(self) -> bytes:
        return canonical_json(self.model_dump(mode="json"))

    @classmethod
    def decode(cls, raw: bytes) -> ActivationRequest:
        return _decode(cls, raw)


class AccountStatus(_Closed):
    """Version 2: the account a device is bound to, as its verdicts tell it (section 13.2)."""

    hint: str = Field(
        min_length=1, max_length=80, description="the account's name, partly masked: a***@mi.com"
    )
    find_device: bool = Field(description="Find Device is on: a factory reset locks the device")
    locked: bool = Field(description="the account lock holds: setup stops until it is lifted")


def _agreement_key(value: str) -> str:
    """A P-256 public key as an X9.62 uncompressed point (65 bytes), in canonical base64."""
    if not _is_agreement_key(value):
        raise ValueError("agreement_key must be a P-256 point, X9.62 uncompressed, in base64")
    return value


@functools.lru_cache(maxsize=16)
def _is_agreement_key(value: str) -> bool:
    """Whether ``value`` is such a point. Remembered per value: a vendor sends its one key in
    every version 2 verdict, and decoding the point is a fifth of validating the verdict
    (docs/decisions/agreement-key-checked-once.md). The answer depends on the string alone."""
    try:
        raw = base64.b64decode(value, validate=True)
        if len(raw) != 65 or base64.b64encode(raw).decode() != value:
            return False
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return False
    return True


#: 65 bytes of standard base64: 86 characters, one that ends 4 bits, and "="
AgreementKey = Annotated[
    str,
    AfterValidator(_agreement_key),
    Field(json_schema_extra={"pattern": "^[A-Za-z0-9+/]{86}[AEIMQUYcgkosw048]=$"}),
]


class Verdict(_Closed):
    """The vendor's signed answer. The phone acts on it only after checking every field.

    ``protocol`` is 1 unless the verdict carries a field of version 2, which requires 2.
    """

    protocol: int = Field(default=PROTOCOL_VERSION, ge=1, le=LATEST_PROTOCOL)
    device_serial: str = Field(min_length=1, max_length=32)
    imei: Imei
    # Not strict: strict mode accepts only VerdictStatus instances from a decoded dict, so the
    # wire value "locked" would be refused and no verdict could ever be decoded.
    status: VerdictStatus = Field(strict=False)
    reason: str = Field(
        pattern=r"^[A-Z][A-Z0-9_]{1,63}$", description="machine-readable reason code"
    )
    message: str = Field(max_length=1000, description="text the phone shows the user")
    nonce: Nonce = Field(description="the nonce of the request this answers")
    issued_at: int = Field(ge=0, description="Unix seconds, server clock")
    expires_at: int = Field(
        ge=0, description="Unix seconds; the phone ignores the verdict after this"
    )
    sequence: int = Field(ge=1, description="strictly increasing per device")
    policy_version: str = Field(max_length=64)
    next_checkin_after: int | None = Field(
        default=None, ge=60, description="seconds until the next check-in"
    )
    offline_lock_after: int | None = Field(
        default=None,
        ge=3600,
        description="Knox-style offline rule: the phone locks itself after this many seconds "
        "without a valid verdict; null = no offline rule",
    )
    offline_warning_before: int | None = Field(
        default=None, ge=0, description="warn this many seconds before the offline lock"
    )
    # Version 2 (phone_sim/protocol/lock_screen.py, PROTOCOL.md 7.2 and 13): only in answer to
    # a request saying 2; omitted when unset.
    contact_phone: ContactPhone | None = Field(
        default=None, description="version 2: a number the lock screen shows"
    )
    contact_email: ContactEmail | None = Field(
        default=None, description="version 2: an e-mail address the lock screen shows"
    )
    lock_warning: LockWarning | None = Field(
        default=None, description="version 2: a lock is due; warn the user ahead of it"
    )
    agreement_key: AgreementKey | None = Field(
        default=None,
        description="version 2: the vendor's P-256 key-agreement public key (X9.62 "
        "uncompressed, base64): with the device key it gives the device's own secret "
        "(unblock codes, passwords)",
    )
    account: AccountStatus | None = Field(
        default=None, description="version 2: the account the device is bound to; omitted when none"
    )

    @model_validator(mode="after")
    def _new_fields_say_their_version(self) -> Self:
        # A verdict with a version 2 field says so, so a version 1 reader refuses it by its
        # version (and not only by the field it does not know).
        used = [name for name in V2_VERDICT_FIELDS if getattr(self, name) is not None]
        if used and self.protocol < PROTOCOL_V2:
            raise ValueError(f"{', '.join(used)}: a field of protocol 2 needs protocol 2")
        return self

    def encode(self) -> bytes:
        # Optional fields left unset are omitted, so adding one keeps old encodings (and the
        # committed test vectors) byte-identical.
        return canonical_json(self.model_dump(mode="json", exclude_none=True))

    @classmethod
    def decode(cls, raw: bytes) -> Verdict:
        return _decode(cls, raw)


#: the verdict's fields of version 2 (``protocol`` must then be 2)
V2_VERDICT_FIELDS = ("contact_phone", "contact_email", "lock_warning", "agreement_key", "account")


class ErrorBody(_Closed):
    """Every error the server sends: ``{"error": {"code": ..., "message": ...}}``."""

    class Detail(_Closed):
        code: str
        message: str

    error: Detail


_M = TypeVar("_M", bound=_Closed)


def _decode(cls: type[_M], raw: bytes) -> _M:
    """Size, strict JSON (``canonical.parse_json``), the schema, then canonical form.

    The schema comes before the canonical check so that a body the schema refuses is told what
    is wrong with it, and the canonical form is computed only for values the schema bounds.
    """
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"body is {len(raw)} bytes; the limit is {MAX_BODY_BYTES}")
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise MalformedMessage("body must be a JSON object")
    try:
        message = cls.model_validate(data)
    except ValidationError as exc:
        raise MalformedMessage(describe_validation_error(exc)) from exc
    require_canonical(raw, data)
    return message


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem, ``field.path: reason``, at most five."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "body"
        parts.append(f"{where}: {err['msg']}")
    more = len(exc.errors()) - 5
    if more > 0:
        parts.append(f"(+{more} more)")
    return "; ".join(parts)
