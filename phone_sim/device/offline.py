"""What a phone does on its own when it hears nothing valid from its vendor (PROTOCOL.md §8.1).

Two rules, both from the last verdict the phone accepted:

* **The Knox-style offline rule** (the verdict's ``offline_lock_after``): the phone warns its
  user ``offline_warning_before`` seconds ahead, then locks itself that long after the verdict.
* **The expiry rule**: a verdict is the phone's authority only until its ``expires_at``. Once it
  has expired the phone checks in at once; if it cannot reach the vendor (its latest check-in
  failed), a verdict that carried an offline rule locks the phone as that rule would (the
  offline lock falls due at the expiry at the latest), and one without leaves the phone as it is
  but with a standing warning, while it keeps retrying.

The phone's warning is part of its observable state (:class:`PhoneWarning`): the status bar, the
home screen and scenario expectations read it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from .storage import PersistedState

OFFLINE_REASON = "OFFLINE_TOO_LONG"
DAY = 86400


class WarningKind(StrEnum):
    #: the phone will lock itself at ``lock_at`` unless it reaches the vendor first
    OFFLINE_LOCK = "offline_lock"
    #: the last verdict expired and the vendor cannot be reached; nothing will lock the phone
    UNCONFIRMED = "unconfirmed"
    #: the vendor's notice ahead of its lock, which the user may dismiss (``lock_notices.py``)
    LOCK_NOTICE = "lock_notice"
    #: the vendor's reminder ahead of its lock, which stays until the lock or a release
    LOCK_REMINDER = "lock_reminder"


@dataclass(frozen=True)
class PhoneWarning:
    """A warning the phone shows until a valid verdict (or a lock) ends it, or, when it is
    ``dismissible``, until the user dismisses it."""

    kind: WarningKind
    text: str
    #: when the phone is locked (by itself, or by its vendor), simulated Unix seconds
    lock_at: float | None = None
    #: the user may dismiss it (the vendor's notice); every other warning stands
    dismissible: bool = False


@dataclass(frozen=True)
class OfflineStep:
    """What the rules call for now: a lock message, a warning, and/or a check-in at once."""

    lock: str | None = None
    warning: PhoneWarning | None = None
    check_in: bool = False


def _when(seconds: float) -> str:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC).strftime("%d %b %Y %H:%M")


def offline_step(persisted: PersistedState, now: float, *, failing: bool) -> OfflineStep:
    """Apply both rules to ``persisted`` (from the last valid verdict) at ``now``.

    ``failing`` says the phone's latest check-in failed: it cannot reach its vendor now.
    """
    verdict_at = persisted.verdict_at
    if verdict_at is None:
        return OfflineStep()
    expires = persisted.verdict_expires_at
    expired = expires is not None and now >= expires
    lock_after = persisted.offline_lock_after
    if lock_after is None:
        if not expired:
            return OfflineStep()
        if not failing:
            return OfflineStep(check_in=True)
        assert expires is not None
        return OfflineStep(
            warning=PhoneWarning(
                WarningKind.UNCONFIRMED,
                f"This device's activation could not be confirmed since {_when(expires)} UTC: "
                "the activation server cannot be reached. The phone keeps trying.",
            )
        )
    if now - verdict_at >= lock_after:
        return OfflineStep(
            lock=f"This device has not reached the activation server for "
            f"{lock_after // DAY} days. Connect to the internet to unlock it."
        )
    if expired and failing:
        assert expires is not None
        return OfflineStep(
            lock=f"This device has not reached the activation server since its activation "
            f"expired on {_when(expires)} UTC. Connect to the internet to unlock it."
        )
    lock_at = verdict_at + lock_after if expires is None else min(verdict_at + lock_after, expires)
    warning = None
    before = persisted.offline_warning_before or 0
    if before and now >= lock_at - before:
        warning = PhoneWarning(
            WarningKind.OFFLINE_LOCK,
            f"Connect to the internet: this device locks on {_when(lock_at)} UTC without "
            "contact with the activation server.",
            lock_at,
        )
    return OfflineStep(warning=warning, check_in=expired)
