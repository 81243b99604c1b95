"""Signing keys that make the committed vectors reproducible and show what was signed.

Used by ``generate.py`` (and, through it, ``generate_v2.py`` and the tests): ``RecordingKey``
signs P-256 with RFC 6979 deterministic nonces, ``RecordingEd25519Key`` Ed25519 (deterministic
already); both remember the bytes the signature library handed them, which are the RFC 9421
signature bases the vectors commit. The library sees only a private key of the usual type.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519


class RecordingKey(ec.EllipticCurvePrivateKey):
    """A P-256 key that signs with RFC 6979 deterministic nonces and remembers what it signed.

    The signature library only sees an ``EllipticCurvePrivateKey``; the bytes it passes to
    ``sign`` are the RFC 9421 signature base.
    """

    def __init__(self, key: ec.EllipticCurvePrivateKey) -> None:
        self._key = key
        self.signed: list[bytes] = []

    def sign(self, data: Any, signature_algorithm: ec.EllipticCurveSignatureAlgorithm) -> bytes:
        assert isinstance(signature_algorithm, ec.ECDSA)
        self.signed.append(bytes(data))
        deterministic = ec.ECDSA(signature_algorithm.algorithm, deterministic_signing=True)
        return self._key.sign(data, deterministic)

    def exchange(self, algorithm: ec.ECDH, peer_public_key: ec.EllipticCurvePublicKey) -> bytes:
        return self._key.exchange(algorithm, peer_public_key)

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._key.public_key()

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._key.curve

    @property
    def key_size(self) -> int:
        return self._key.key_size

    def private_numbers(self) -> ec.EllipticCurvePrivateNumbers:
        return self._key.private_numbers()

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        return self._key.private_bytes(encoding, format, encryption_algorithm)

    def __copy__(self) -> RecordingKey:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> RecordingKey:
        return self


class RecordingEd25519Key(ed25519.Ed25519PrivateKey):
    """An Ed25519 key that remembers what it signed (Ed25519 is deterministic already)."""

    def __init__(self, key: ed25519.Ed25519PrivateKey) -> None:
        self._key = key
        self.signed: list[bytes] = []

    def sign(self, data: Any) -> bytes:
        self.signed.append(bytes(data))
        return self._key.sign(data)

    def public_key(self) -> ed25519.Ed25519PublicKey:
        return self._key.public_key()

    def private_bytes(
        self,
        encoding: serialization.Encoding,
        format: serialization.PrivateFormat,
        encryption_algorithm: serialization.KeySerializationEncryption,
    ) -> bytes:
        return self._key.private_bytes(encoding, format, encryption_algorithm)

    def private_bytes_raw(self) -> bytes:
        return self._key.private_bytes_raw()

    def __copy__(self) -> RecordingEd25519Key:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> RecordingEd25519Key:
        return self
