"""Chains that verified, remembered: a device checking in again is not re-verified from scratch.

Verifying a device chain (two ECDSA signatures and the path policy) is the largest single cost
of a request after the first (docs/decisions/verified-chain-cache.md). What it establishes depends only on the
chain's bytes, the trusted root and the time, so a successful result is kept under a digest of
the exact bytes and reused while the time lies inside every certificate's validity. Failures
are never kept; there is no revocation in this protocol that a cache could miss. The cache is
bounded (least recently used out) and thread-safe.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Generic, TypeVar

from cryptography import x509

T = TypeVar("T")
DEFAULT_SIZE = 65_536


def chain_digest(chain_der: Sequence[bytes]) -> bytes:
    """SHA-256 over the certificates, each prefixed by its length (no two chains share it)."""
    h = hashlib.sha256()
    for der in chain_der:
        h.update(len(der).to_bytes(4, "big"))
        h.update(der)
    return h.digest()


def validity(certificates: Sequence[x509.Certificate]) -> tuple[dt.datetime, dt.datetime]:
    """The span in which every one of ``certificates`` is valid (may be empty)."""
    return (
        max(c.not_valid_before_utc for c in certificates),
        min(c.not_valid_after_utc for c in certificates),
    )


class VerifiedChains(Generic[T]):
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[bytes, tuple[T, dt.datetime, dt.datetime]] = OrderedDict()

    def get(self, chain_der: Sequence[bytes], now: dt.datetime) -> T | None:
        key = chain_digest(chain_der)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[1] <= now <= entry[2]:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[0]
            self.misses += 1
            return None

    def put(
        self, chain_der: Sequence[bytes], value: T, span: tuple[dt.datetime, dt.datetime]
    ) -> None:
        if self.size <= 0:
            return
        key = chain_digest(chain_der)
        with self._lock:
            self._entries[key] = (value, *span)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)
