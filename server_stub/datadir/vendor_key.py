"""The vendor's Ed25519 verdict-signing key, created on first start; phones pin its public half."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.protocol.files import atomic_write
from phone_sim.protocol.keys import (
    load_private_key,
    load_vendor_public_key,
    public_key_pem,
    vendor_key_id,
    write_private_key,
)
from server_stub.errors import VendorKeyError


@dataclass(frozen=True)
class VendorKey:
    private: ed25519.Ed25519PrivateKey
    key_id: str
    public_path: Path

    @property
    def public(self) -> ed25519.Ed25519PublicKey:
        return self.private.public_key()


def load_or_create_vendor_key(private_path: Path, public_path: Path) -> VendorKey:
    """Load the key, generating it (0600) and its public PEM on first start.

    A missing public file is rewritten from the private key. A public file that does not match
    is an error, not something to overwrite: phones have pinned it.
    """
    if private_path.exists():
        try:
            key = load_private_key(private_path)
        except ValueError as exc:
            raise VendorKeyError(f"{private_path}: cannot read the vendor key: {exc}") from exc
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise VendorKeyError(f"{private_path}: the vendor key must be Ed25519")
    else:
        key = ed25519.Ed25519PrivateKey.generate()
        write_private_key(private_path, key)
    public = key.public_key()
    if public_path.exists():
        try:
            pinned = load_vendor_public_key(public_path)
        except ValueError as exc:
            raise VendorKeyError(
                f"{public_path}: cannot read the vendor public key: {exc}"
            ) from exc
        if vendor_key_id(pinned) != vendor_key_id(public):
            raise VendorKeyError(f"{public_path} does not belong to {private_path}")
    else:
        # Public: phones (other users, other processes) read it.
        atomic_write(public_path, public_key_pem(public), mode=0o644)
    return VendorKey(private=key, key_id=vendor_key_id(public), public_path=public_path)
