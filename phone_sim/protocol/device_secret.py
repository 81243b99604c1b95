"""Version 2: each device's own secret, agreed with its vendor, and what is made from it.

PROTOCOL.md section 13.1. The vendor holds a P-256 **key-agreement key**, derived from its
Ed25519 verdict key (so it has no file of its own, and a vendor that can sign verdicts is the
only one that holds it). Its public half travels in every version 2 verdict
(``agreement_key``), signed. A phone and its vendor then compute the same secret, each from its
own private key and the other's public one, by ECDH on P-256::

    Z = ECDH(device key, agreement key) = ECDH(agreement key, device key)

and derive from ``Z`` with HKDF-SHA256 (salt ``phone-sim v2``) one key per purpose, each bound to
the device's serial: the **unblock key** (:func:`unblock_code`) and the **password key**
(:func:`seal_password`). Nothing secret ever travels: the device key never leaves the phone,
the vendor's never leaves the vendor, and ``Z`` is made on both sides. No key in the firmware
opens any phone: the firmware holds only public keys, and each phone's secret needs its own
device key (or the vendor's private key, which can sign a release anyway).

The device key signs requests too; a real design would certify a separate key-agreement key
for the device. HKDF's ``info`` keeps every derived key to its one purpose (docs/SECURITY.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .errors import MalformedMessage

#: the order of the P-256 group
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
SALT = b"phone-sim v2"
#: an unblock code and the challenge it answers: this many decimal digits each
CODE_DIGITS = 8
CHALLENGE_DIGITS = 8


class UnblockPurpose(StrEnum):
    """What an unblock code is for; part of what it is computed over (one purpose in v2)."""

    #: lift the vendor's lock on a phone that cannot reach it (section 13.3)
    RELEASE = "release"


# --- the vendor's key-agreement key ----------------------------------------------------------


def vendor_agreement_key(vendor_key: ed25519.Ed25519PrivateKey) -> ec.EllipticCurvePrivateKey:
    """The vendor's P-256 key-agreement key, derived from its Ed25519 verdict key.

    ``d = HKDF-SHA256(ikm = the 32 raw bytes of the Ed25519 key, salt = "phone-sim v2",
    info = "vendor agreement key", 48 bytes) mod (n - 1) + 1``: 48 bytes make the reduction's
    bias negligible (FIPS 186-5 A.2.1).
    """
    okm = _hkdf(vendor_key.private_bytes_raw(), b"vendor agreement key", 48)
    scalar = int.from_bytes(okm, "big") % (P256_ORDER - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


def encode_agreement_key(key: ec.EllipticCurvePublicKey) -> str:
    """A verdict's ``agreement_key``: the X9.62 uncompressed point, standard base64."""
    raw = key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.b64encode(raw).decode()


def decode_agreement_key(text: str) -> ec.EllipticCurvePublicKey:
    """The key of a verdict's ``agreement_key`` (the verdict's schema has checked it)."""
    raw = base64.b64decode(text, validate=True)
    return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)


def encode_device_key(key: ec.EllipticCurvePublicKey) -> str:
    """How the vendor keeps a device's public key: SubjectPublicKeyInfo DER, base64."""
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def decode_device_key(text: str) -> ec.EllipticCurvePublicKey:
    key = serialization.load_der_public_key(base64.b64decode(text, validate=True))
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("a device key is a P-256 key")
    return key


# --- the device's secret ---------------------------------------------------------------------


@dataclass(frozen=True)
class DeviceSecret:
    """The keys one device shares with its vendor, each for one purpose."""

    serial: str
    unblock_key: bytes
    password_key: bytes

    @classmethod
    def from_shared(cls, shared: bytes, serial: str) -> DeviceSecret:
        """From ``Z`` (the ECDH output): ``HKDF-SHA256(Z, salt, info = purpose 0x00 serial)``."""
        tail = b"\x00" + serial.encode()
        return cls(
            serial,
            unblock_key=_hkdf(shared, b"unblock" + tail, 32),
            password_key=_hkdf(shared, b"account password" + tail, 32),
        )

    @classmethod
    def on_phone(
        cls, device_key: ec.EllipticCurvePrivateKey, agreement_key: str, serial: str
    ) -> DeviceSecret:
        """The phone's side: its device key and the vendor's ``agreement_key``."""
        shared = device_key.exchange(ec.ECDH(), decode_agreement_key(agreement_key))
        return cls.from_shared(shared, serial)

    @classmethod
    def at_vendor(
        cls,
        agreement: ec.EllipticCurvePrivateKey,
        device_key: ec.EllipticCurvePublicKey,
        serial: str,
    ) -> DeviceSecret:
        """The vendor's side: its agreement key and the device's certified public key."""
        return cls.from_shared(agreement.exchange(ec.ECDH(), device_key), serial)


def _hkdf(ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=SALT, info=info).derive(ikm)


# --- unblock codes ---------------------------------------------------------------------------


def is_digits(text: str, count: int) -> bool:
    return len(text) == count and text.isascii() and text.isdigit()


def unblock_code(
    secret: DeviceSecret, challenge: str, purpose: UnblockPurpose = UnblockPurpose.RELEASE
) -> str:
    """The code that answers ``challenge`` on this device for ``purpose``: 8 digits.

    ``HMAC-SHA256(unblock key, "phone-sim unblock v2" LF serial LF purpose LF challenge)``,
    truncated as HOTP does (RFC 4226 section 5.3, with SHA-256: the offset is the low four bits
    of the last byte), modulo 10^8.
    """
    if not is_digits(challenge, CHALLENGE_DIGITS):
        raise ValueError(f"a challenge is {CHALLENGE_DIGITS} digits")
    message = f"phone-sim unblock v2\n{secret.serial}\n{purpose.value}\n{challenge}".encode()
    mac = hmac.new(secret.unblock_key, message, hashlib.sha256).digest()
    offset = mac[-1] & 0x0F
    value = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(value % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def normalise_digits(text: str) -> str:
    """What a person typed, without the spaces and dashes they group digits with."""
    return "".join(c for c in text if c not in " -")


def group_digits(digits: str) -> str:
    """``12345678`` as it is shown and read out: ``1234 5678``."""
    return f"{digits[:4]} {digits[4:]}" if len(digits) == 8 else digits


# --- the sealed password ---------------------------------------------------------------------


def _password_context(serial: str, action: str, account: str, nonce: str) -> tuple[bytes, bytes]:
    """The AES-GCM nonce and associated data of one account request's password."""
    aad = f"phone-sim v2 account\n{serial}\n{action}\n{account}\n{nonce}".encode()
    iv = hashlib.sha256(b"phone-sim v2 password nonce\n" + nonce.encode()).digest()[:12]
    return iv, aad


def seal_password(
    secret: DeviceSecret, password: str, *, action: str, account: str, nonce: str
) -> str:
    """The request's ``account.password``: AES-256-GCM under the password key, base64.

    The GCM nonce is made from the request nonce (fresh for every request, and refused by the
    server if it comes twice), and the associated data binds the box to this device, action,
    account and request: a sealed password moved into another request does not open.
    """
    iv, aad = _password_context(secret.serial, action, account, nonce)
    sealed = AESGCM(secret.password_key).encrypt(iv, password.encode(), aad)
    return base64.b64encode(sealed).decode()


def open_password(
    secret: DeviceSecret, sealed: str, *, action: str, account: str, nonce: str
) -> str:
    """The password in ``sealed``.

    Raises:
        MalformedMessage: it does not open (another device's or request's, or damaged).
    """
    iv, aad = _password_context(secret.serial, action, account, nonce)
    try:
        plain = AESGCM(secret.password_key).decrypt(
            iv, base64.b64decode(sealed, validate=True), aad
        )
        return plain.decode()
    except (InvalidTag, ValueError, UnicodeDecodeError):
        raise MalformedMessage(
            "account.password does not open with this device's password key "
            "(sealed for another device, action, account or request)"
        ) from None
