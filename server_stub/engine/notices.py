"""What a verdict asks the phone to show around a lock (protocol 2, PROTOCOL.md section 7.2).

The policy's ``[lock_screen]`` contact details go with every verdict, so that a phone shows them
on any lock screen, its own offline lock included. The policy's ``[lock_warning]`` goes with
every ``activated`` verdict while a delayed embargo lock is pending: when it falls due, and
from when the phone shows the notice and the reminder. Sending the whole plan ahead lets the
phone warn on time between check-ins, and without network. A lock that comes at once (a hold,
a region lock, a delay of 0) has nothing to warn ahead of.
"""

from __future__ import annotations

from typing import Any

from phone_sim.protocol.lock_screen import LockWarning
from phone_sim.protocol.messages import VerdictStatus
from server_stub.engine.decide import Outcome
from server_stub.policy import Policy


def lock_screen_fields(policy: Policy, outcome: Outcome) -> dict[str, Any]:
    """The verdict's version 2 fields under ``policy`` for ``outcome`` (empty: none apply)."""
    fields: dict[str, Any] = {}
    contact = policy.lock_screen
    if contact is not None:
        if contact.phone is not None:
            fields["contact_phone"] = contact.phone
        if contact.email is not None:
            fields["contact_email"] = contact.email
    rule, due = policy.lock_warning, outcome.lock_due_at
    if rule is not None and due is not None and outcome.status is VerdictStatus.ACTIVATED:
        fields["lock_warning"] = LockWarning(
            lock_at=due,
            notice_at=max(0, due - rule.notice_before),
            notice=rule.notice,
            reminder_at=max(0, due - rule.reminder_before),
            reminder=rule.reminder,
        )
    return fields
