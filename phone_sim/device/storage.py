"""The phone's data directory: identity, keys (0600), pinned vendor key, activation state.

Every write is atomic (temp file, fsync, rename, fsync directory), so a crash leaves the old or
the new file. A file that exists but cannot be read raises CorruptStateError naming the file and
the reason: a broken state file is reported, never silently replaced by a fresh phone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from phone_sim.protocol.files import atomic_write
from phone_sim.protocol.keys import load_private_key, load_vendor_public_key, write_private_key

from .account import AccountState
from .errors import CorruptStateError
from .identity import DeviceIdentity
from .state import Activation
from .tray_file import Tray, decode_tray, encode_tray
from .unblock import UnblockState

if TYPE_CHECKING:
    from phone_sim.protocol.lock_screen import LockWarning

_T = TypeVar("_T")
STATE_VERSION = 1
#: how many used nonces the phone remembers (only its own recent requests can be answered)
NONCE_MEMORY = 64


@dataclass(frozen=True)
class StoredVerdict:
    """The last verdict the phone accepted, as received (status, headers, body)."""

    status: int
    headers: dict[str, str]
    body: str

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "headers": self.headers, "body": self.body}


@dataclass(frozen=True)
class PersistedState:
    activation: Activation = Activation.NONE
    last_sequence: int = 0
    reason: str = ""
    message: str = ""
    last_verdict: StoredVerdict | None = None
    used_nonces: tuple[str, ...] = ()
    language: str | None = None
    #: when the phone last accepted a valid verdict (simulated Unix seconds)
    verdict_at: float | None = None
    #: that verdict's ``expires_at`` (None: no verdict, or a state file from before it was kept)
    verdict_expires_at: int | None = None
    #: the vendor's offline rule from that verdict, in seconds (None: no rule)
    offline_lock_after: int | None = None
    offline_warning_before: int | None = None
    #: the last signed vendor time the phone saw: its clock never goes back past it
    time_floor: float | None = None
    #: from the last verdict (protocol 2): the lock screen's contact details
    contact_phone: str | None = None
    contact_email: str | None = None
    #: from the last verdict (protocol 2): a lock is due, and the warnings ahead of it
    lock_warning: LockWarning | None = None
    #: the user dismissed that warning's notice (a different warning is shown afresh)
    notice_dismissed: bool = False

    def with_nonce(self, nonce: str) -> PersistedState:
        return replace(self, used_nonces=(*self.used_nonces, nonce)[-NONCE_MEMORY:])

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "version": STATE_VERSION,
                "activation": self.activation.value,
                "last_sequence": self.last_sequence,
                "reason": self.reason,
                "message": self.message,
                "last_verdict": None if self.last_verdict is None else self.last_verdict.to_dict(),
                "used_nonces": list(self.used_nonces),
                "language": self.language,
                "verdict_at": self.verdict_at,
                "verdict_expires_at": self.verdict_expires_at,
                "offline_lock_after": self.offline_lock_after,
                "offline_warning_before": self.offline_warning_before,
                "time_floor": self.time_floor,
                "contact_phone": self.contact_phone,
                "contact_email": self.contact_email,
                "lock_warning": None if self.lock_warning is None else self.lock_warning.to_json(),
                "notice_dismissed": self.notice_dismissed,
            },
            indent=2,
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> PersistedState:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("top level is not an object")
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported state version {data.get('version')!r}")
        verdict = data.get("last_verdict")
        sequence = data["last_sequence"]
        if type(sequence) is not int or sequence < 0:
            raise ValueError("last_sequence must be a non-negative integer")
        return cls(
            activation=Activation(data["activation"]),
            last_sequence=sequence,
            reason=str(data.get("reason", "")),
            message=str(data.get("message", "")),
            last_verdict=None
            if verdict is None
            else StoredVerdict(
                int(verdict["status"]), dict(verdict["headers"]), str(verdict["body"])
            ),
            used_nonces=tuple(str(n) for n in data.get("used_nonces", [])),
            language=data.get("language"),
            verdict_at=_optional_number(data.get("verdict_at"), "verdict_at"),
            verdict_expires_at=_optional_int(
                data.get("verdict_expires_at", _stored_expiry(verdict)), "verdict_expires_at"
            ),
            offline_lock_after=_optional_int(data.get("offline_lock_after"), "offline_lock_after"),
            offline_warning_before=_optional_int(
                data.get("offline_warning_before"), "offline_warning_before"
            ),
            time_floor=_optional_number(data.get("time_floor"), "time_floor"),
            contact_phone=_optional_str(data.get("contact_phone"), "contact_phone"),
            contact_email=_optional_str(data.get("contact_email"), "contact_email"),
            lock_warning=_lock_warning(data.get("lock_warning")),
            notice_dismissed=data.get("notice_dismissed", False) is True,
        )


def _optional_str(value: object, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    return value


def _lock_warning(value: object) -> LockWarning | None:
    if value is None:
        return None
    # The wire model reads it, as it read the verdict that brought it: one set of rules. Its
    # pydantic loads only for a state that holds a warning, which few vendors send (the packaged
    # policy sends none), not for every launch (docs/decisions/tui-first-frame-imports.md).
    from phone_sim.protocol.lock_screen import LockWarning

    try:
        return LockWarning.model_validate(value)
    except ValueError as exc:  # pydantic's ValidationError is one
        raise ValueError(f"lock_warning: {exc}") from None


def _stored_expiry(verdict: object) -> object:
    """``expires_at`` of the stored verdict body, for state files written before it was kept."""
    if not isinstance(verdict, dict):
        return None
    try:
        body = json.loads(str(verdict.get("body", "")))
    except ValueError:
        return None
    return body.get("expires_at") if isinstance(body, dict) else None


def _optional_number(value: object, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    return float(value)


def _optional_int(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer")
    return value


class DeviceStorage:
    """Files of one phone under ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def identity_path(self) -> Path:
        return self.directory / "identity.json"

    @property
    def key_path(self) -> Path:
        return self.directory / "device_key.pem"

    @property
    def chain_path(self) -> Path:
        return self.directory / "certificates.json"

    @property
    def vendor_key_path(self) -> Path:
        return self.directory / "vendor.pub"

    @property
    def state_path(self) -> Path:
        return self.directory / "state.json"

    @property
    def tray_path(self) -> Path:
        return self.directory / "sims.json"

    @property
    def account_path(self) -> Path:
        """The account and the vendor's agreement key (version 2; a reset erases it)."""
        return self.directory / "account.json"

    @property
    def unblock_path(self) -> Path:
        """The unblock challenge and its attempt counts (version 2; a reset keeps the counts)."""
        return self.directory / "unblock.json"

    def is_provisioned(self) -> bool:
        return self.identity_path.exists()

    # --- writing -------------------------------------------------------------------------

    def write_provisioning(
        self,
        identity: DeviceIdentity,
        key: ec.EllipticCurvePrivateKey,
        chain_b64: list[str],
        vendor_public_pem: bytes,
    ) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        write_private_key(self.key_path, key)
        atomic_write(self.chain_path, json.dumps(chain_b64).encode(), mode=0o644)
        atomic_write(self.vendor_key_path, vendor_public_pem, mode=0o644)
        # new hardware has an empty SIM tray
        self.tray_path.unlink(missing_ok=True)
        # identity last: its presence marks a complete provisioning
        atomic_write(self.identity_path, identity.to_json(), mode=0o644)

    def save_state(self, state: PersistedState) -> None:
        atomic_write(self.state_path, state.to_json())

    def save_tray(self, tray: Tray) -> None:
        """The SIMs in the slots and their serving networks (a factory reset keeps them)."""
        atomic_write(self.tray_path, encode_tray(tray), mode=0o644)

    def save_account(self, account: AccountState) -> None:
        atomic_write(self.account_path, account.to_json())

    def save_unblock(self, unblock: UnblockState) -> None:
        atomic_write(self.unblock_path, unblock.to_json())

    def wipe_state(self) -> None:
        """Factory reset: forget activation state and the account (identity and keys are the
        hardware's, and so are the unblock code's attempt counts)."""
        self.state_path.unlink(missing_ok=True)
        self.account_path.unlink(missing_ok=True)

    # --- reading -------------------------------------------------------------------------

    def _read(self, path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError as exc:
            raise CorruptStateError(path, exc.strerror or str(exc)) from exc

    def load_identity(self) -> DeviceIdentity:
        raw = self._read(self.identity_path)
        try:
            return DeviceIdentity.from_dict(json.loads(raw))
        except Exception as exc:  # any decoding problem is the same report: this file is broken
            raise CorruptStateError(self.identity_path, str(exc) or type(exc).__name__) from exc

    def load_key(self) -> ec.EllipticCurvePrivateKey:
        try:
            key = load_private_key(self.key_path)
        except Exception as exc:
            raise CorruptStateError(self.key_path, str(exc) or type(exc).__name__) from exc
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CorruptStateError(self.key_path, "device key must be ECDSA P-256")
        return key

    def load_chain(self) -> list[str]:
        raw = self._read(self.chain_path)
        try:
            chain = json.loads(raw)
            if not isinstance(chain, list) or not all(isinstance(c, str) for c in chain):
                raise ValueError("expected a list of base64 certificates")
        except ValueError as exc:
            raise CorruptStateError(self.chain_path, str(exc)) from exc
        return chain

    def load_vendor_key(self) -> ed25519.Ed25519PublicKey:
        try:
            return load_vendor_public_key(self.vendor_key_path)
        except Exception as exc:
            raise CorruptStateError(self.vendor_key_path, str(exc) or type(exc).__name__) from exc

    def load_state(self) -> PersistedState:
        """The persisted state; a phone that never saved any starts fresh."""
        if not self.state_path.exists():
            return PersistedState()
        raw = self._read(self.state_path)
        try:
            return PersistedState.from_json(raw)
        except Exception as exc:
            raise CorruptStateError(self.state_path, str(exc) or type(exc).__name__) from exc

    def load_account(self) -> AccountState:
        return self._load_optional(self.account_path, AccountState.from_json, AccountState())

    def load_unblock(self) -> UnblockState:
        return self._load_optional(self.unblock_path, UnblockState.from_json, UnblockState())

    def _load_optional(self, path: Path, decode: Callable[[bytes], _T], fresh: _T) -> _T:
        """``path`` decoded, or ``fresh`` for a phone that never wrote it."""
        if not path.exists():
            return fresh
        raw = self._read(path)
        try:
            return decode(raw)
        except Exception as exc:
            raise CorruptStateError(path, str(exc) or type(exc).__name__) from exc

    def load_tray(self, slots: tuple[int, ...]) -> Tray:
        """The SIM tray as last saved; a phone that never had one has empty slots."""
        if not self.tray_path.exists():
            return dict.fromkeys(slots)
        raw = self._read(self.tray_path)
        try:
            return decode_tray(raw, slots)
        except Exception as exc:
            raise CorruptStateError(self.tray_path, str(exc) or type(exc).__name__) from exc
