"""Private keys on disk: PEM, written 0600 from the first byte (never world-readable, not even briefly)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from .files import atomic_write

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def private_key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def write_private_key(path: Path, key: PrivateKey) -> None:
    """Write ``key`` to ``path`` atomically with mode 0600."""
    atomic_write(path, private_key_pem(key))


def load_private_key(path: Path) -> PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise ValueError(f"{path}: unsupported key type {type(key).__name__}")
    return key


def public_key_pem(key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_vendor_public_key(path: Path) -> ed25519.Ed25519PublicKey:
    """The vendor verdict key as pinned in the phone's firmware (PEM SubjectPublicKeyInfo)."""
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise ValueError(f"{path}: the vendor key must be Ed25519")
    return key


def vendor_key_id(key: ed25519.Ed25519PublicKey) -> str:
    """The ``keyid`` verdicts carry: ``vendor-`` and 16 hex digits of SHA-256 of the raw key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "vendor-" + hashlib.sha256(raw).hexdigest()[:16]
