"""The Knox-style offline rule: a phone that hears nothing valid from its vendor for too long
warns its user, then locks itself. The rule comes in the vendor's verdicts; off unless it does.
"""

from __future__ import annotations

from dataclasses import dataclass

from .storage import PersistedState

OFFLINE_REASON = "OFFLINE_TOO_LONG"
DAY = 86400


@dataclass(frozen=True)
class OfflineStep:
    """What the rule says now: ``warn`` (with the notice) or ``lock`` (with the lock message)."""

    action: str
    text: str


def offline_step(persisted: PersistedState, now: float) -> OfflineStep | None:
    """Apply the rule in ``persisted`` (from the last valid verdict) at ``now``."""
    lock_after = persisted.offline_lock_after
    if lock_after is None or persisted.verdict_at is None:
        return None
    silent = now - persisted.verdict_at
    if silent >= lock_after:
        return OfflineStep(
            "lock",
            f"This device has not reached the activation server for {lock_after // DAY} days. "
            "Connect to the internet to unlock it.",
        )
    if silent >= lock_after - (persisted.offline_warning_before or 0):
        left = (lock_after - silent) / DAY
        return OfflineStep(
            "warn",
            f"Connect to the internet: this device locks in {left:.1f} days without contact "
            "with the activation server.",
        )
    return None
