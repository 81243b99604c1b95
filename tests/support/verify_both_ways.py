"""A signed message verified both ways: the direct reading first (as ``signing._verify`` does),
and the library alone; and whether the direct reading takes it at all. The differential tests of
the canonical form compare the two (docs/decisions/canonical-form-verified-directly.md)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from phone_sim.protocol import profile, signing
from phone_sim.protocol.signing import REQUEST_SHAPE, VERDICT_SHAPE


def both_ways(
    message: Any, *, verdict: bool, public_key: Any, key_id: str, now: dt.datetime
) -> tuple[object, object]:
    """What ``_verify`` says with the direct reading first, and with the library alone: a
    ``SignatureCheck``, or the refusal's kind and words."""

    def outcome(canonical_first: bool) -> object:
        try:
            return signing._verify(
                message,
                public_key=public_key,
                key_id=key_id,
                now=now,
                max_age=None if verdict else signing.MAX_REQUEST_SKEW,
                shape=VERDICT_SHAPE if verdict else REQUEST_SHAPE,
                canonical_first=canonical_first,
            )
        except Exception as exc:  # both ways must fail alike, whatever the kind
            return (type(exc), str(exc))

    return outcome(True), outcome(False)


def read_directly(message: Any, *, verdict: bool, public_key: Any, key_id: str) -> bool:
    """Whether the direct reading accepts ``message`` (None from it: the library's to judge)."""
    shape = VERDICT_SHAPE if verdict else REQUEST_SHAPE
    read = profile.read_canonical(message, shape, public_key=public_key, key_id=key_id)
    return read is not None
