"""What the vendor asks the phone to show around a lock (protocol 2, PROTOCOL.md section 7.2).

From its last verdict the phone keeps the lock screen's contact details and, while a delayed
lock is pending, the vendor's plan of warnings (:class:`~phone_sim.protocol.lock_screen.
LockWarning`). Between contacts, on its own clock, an activated phone shows:

* from ``notice_at``, the vendor's **notice**, once: the user may dismiss it, and it stays
  dismissed (across reboots) until a verdict brings a different plan (another lock date);
* from ``reminder_at``, the **reminder**, which cannot be dismissed and stays until the lock
  arrives or a verdict without a plan (a release) ends it.

Either is the phone's one warning (:class:`~.offline.PhoneWarning`, ``Phone.warning``), which
the status bar, the home screen and scenario expectations read. When the phone's own offline
rules call for a warning as well, it shows the one about the earlier lock (its own when they
fall together, or when the vendor's lock has no date), since that is what will happen first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .offline import PhoneWarning, WarningKind
from .storage import PersistedState

if TYPE_CHECKING:
    from phone_sim.protocol.messages import Verdict


def vendor_warning(persisted: PersistedState, now: float) -> PhoneWarning | None:
    """The vendor's notice or reminder the phone shows at ``now`` (None: neither)."""
    plan = persisted.lock_warning
    if plan is None or now < plan.notice_at:
        return None
    if now >= plan.reminder_at:
        return PhoneWarning(WarningKind.LOCK_REMINDER, plan.reminder, plan.lock_at)
    if persisted.notice_dismissed:
        return None
    return PhoneWarning(WarningKind.LOCK_NOTICE, plan.notice, plan.lock_at, dismissible=True)


def first_warning(own: PhoneWarning | None, vendor: PhoneWarning | None) -> PhoneWarning | None:
    """The warning to show of the phone's own (offline rules) and the vendor's."""
    if own is None or vendor is None:
        return own or vendor
    if vendor.lock_at is not None and (own.lock_at is None or vendor.lock_at < own.lock_at):
        return vendor
    return own


def from_verdict(verdict: Verdict, persisted: PersistedState) -> dict[str, Any]:
    """What an accepted verdict sets of :class:`PersistedState` (its ``replace`` keywords).

    A verdict without a field clears it: the contact details and the plan are the last
    verdict's, so a release (or a version 1 verdict) ends the warnings.
    """
    plan = verdict.lock_warning
    return {
        "contact_phone": verdict.contact_phone,
        "contact_email": verdict.contact_email,
        "lock_warning": plan,
        # The same plan again (the next check-in) keeps its notice dismissed.
        "notice_dismissed": persisted.notice_dismissed
        and plan is not None
        and plan == persisted.lock_warning,
    }


def contact_text(persisted: PersistedState) -> str:
    """The lock screen's contact line: ``+53 7 266 6666 · help@example.com`` ("" for none)."""
    return " · ".join(c for c in (persisted.contact_phone, persisted.contact_email) if c)
