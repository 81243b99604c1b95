"""Whether a lock or a release has reached the device: Knox Guard's Locking and Unlocking states.

The server decides a lock or a release at one moment (an operator's hold or release, a delayed
lock falling due) and tells the device at its next contact. Until then the decision is
**pending**; the verdict that carries it **delivers** it, and the store keeps one
:class:`~server_stub.store.db.DeliveryRow` per delivery (the verdict's sequence and time).

What was last told is the memory's ``last_status``; what the server would say now is the
projection (:func:`server_stub.engine.decide.project`). They differ exactly while a lock or a
release is pending. Only changes of status count: a hold placed on a phone already locked for
its territory changes the reason it is given, not whether it is locked.

The protocol has no acknowledgement: "delivered" means the server answered a contact of the
device with the signed verdict. An answer lost on the way is sent again at the next contact,
since the decision stands (a new delivery is recorded only if the status changes again).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from phone_sim.protocol.messages import VerdictStatus
from server_stub.engine.decide import Outcome
from server_stub.engine.memory import DeviceMemory
from server_stub.policy import Reason
from server_stub.store.db import DeliveryRow


class DeliveryKind(StrEnum):
    LOCK = "lock"
    RELEASE = "release"


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"


@dataclass(frozen=True)
class Delivery:
    """The lock or release in question for one device, and how far it got."""

    kind: DeliveryKind
    state: DeliveryState
    decided_at: int | None  # None: not known (a policy change, a database from before)
    delivered_at: int | None = None
    sequence: int | None = None

    @classmethod
    def of(cls, row: DeliveryRow) -> Delivery:
        return cls(
            DeliveryKind(row.kind),
            DeliveryState.DELIVERED,
            row.decided_at,
            row.delivered_at,
            row.sequence,
        )


def change(memory: DeviceMemory, outcome: Outcome) -> DeliveryKind | None:
    """The lock or release ``outcome`` makes, against what the device was last told."""
    told, now = memory.last_status, outcome.status
    if now is VerdictStatus.LOCKED and told is not VerdictStatus.LOCKED:
        return DeliveryKind.LOCK
    if now is VerdictStatus.ACTIVATED and told is VerdictStatus.LOCKED:
        return DeliveryKind.RELEASE
    return None


def decided_at(memory: DeviceMemory, outcome: Outcome, kind: DeliveryKind) -> int | None:
    """When the server decided the lock or release ``outcome`` carries, if it can say."""
    if kind is DeliveryKind.RELEASE:
        release = memory.release
        by_operator = release is not None and (
            memory.last_contact is None or release.at >= memory.last_contact
        )
        # A release by re-evaluation (a policy change, a SIM swap) has no moment of its own.
        return release.at if by_operator and release is not None else None
    if outcome.reason is Reason.INVESTIGATION_HOLD and memory.hold is not None:
        return memory.hold.at
    if outcome.reason is Reason.EMBARGOED_TERRITORY:
        return outcome.lock_due_at  # the delay ran out then
    if outcome.cause is not None:
        return outcome.cause.since  # a region lock: decided when its evidence was seen
    return None


def pending(memory: DeviceMemory, projected: Outcome) -> Delivery | None:
    """The lock or release decided and not yet told to the device (None: nothing pending)."""
    kind = change(memory, projected)
    if kind is None or memory.last_status is None:
        return None  # a device never told anything has nothing pending either
    return Delivery(kind, DeliveryState.PENDING, decided_at(memory, projected, kind))


def delivered_now(
    memory: DeviceMemory, outcome: Outcome, *, serial: str, sequence: int, at: int
) -> DeliveryRow | None:
    """The delivery the verdict answering a contact makes (``memory`` from before it)."""
    kind = change(memory, outcome)
    if kind is None:
        return None
    return DeliveryRow(
        serial=serial,
        sequence=sequence,
        kind=kind.value,
        reason=outcome.reason.value,
        decided_at=decided_at(memory, outcome, kind),
        delivered_at=at,
    )


def current(
    memory: DeviceMemory, projected: Outcome, latest: DeliveryRow | None
) -> Delivery | None:
    """What the operator sees: the pending lock or release, else the latest delivered one."""
    waiting = pending(memory, projected)
    if waiting is not None:
        return waiting
    return None if latest is None else Delivery.of(latest)
