"""Whether a verdict that carried a valid vendor signature may be acted on by this phone.

The signature proves the vendor wrote it; these checks prove it was written for this phone,
for the request in flight, after everything accepted before, and is still valid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .identity import DeviceIdentity
from .storage import PersistedState

if TYPE_CHECKING:
    from phone_sim.protocol.messages import Verdict

#: a verdict issued this far in the phone's future is refused (clocks disagree too much)
MAX_FUTURE_SKEW = 300


def verdict_problem(
    verdict: Verdict, identity: DeviceIdentity, nonce: str, persisted: PersistedState, now: float
) -> str | None:
    """Why ``verdict`` must be refused, or None if the phone may act on it."""
    if verdict.device_serial != identity.serial:
        return f"it is for device {verdict.device_serial}, not this one"
    if verdict.imei not in identity.imeis:
        return f"it names IMEI {verdict.imei}, not this phone's"
    if verdict.nonce != nonce:
        return "it answers another request (nonce mismatch)"
    if verdict.nonce in persisted.used_nonces:
        return "its nonce was already used"
    if verdict.sequence <= persisted.last_sequence:
        return (
            f"it is a replay or out of order (sequence {verdict.sequence}, "
            f"last accepted {persisted.last_sequence})"
        )
    if verdict.expires_at <= now:
        return "it has expired"
    if verdict.issued_at > now + MAX_FUTURE_SKEW:
        return "it was issued in the future"
    return None
