"""What the operator can do to devices: hold, release, release all.

Each action runs in one store transaction with its audit entry, so the log can never miss an
action that took effect. Actions change what the server *will say*: the phone hears it at its
next contact, as in the story ("the phone unlocked itself at its next contact").
"""

from __future__ import annotations

from dataclasses import dataclass

from server_stub.admin.models import BulkRelease, DeviceView
from server_stub.admin.views import device_view_in, find_device, locate, pending_view
from server_stub.engine.context import ServerContext
from server_stub.engine.decide import place_hold, release
from server_stub.engine.memory import DeviceMemory
from server_stub.errors import NothingToRelease
from server_stub.policy import Policy
from server_stub.store.db import AuditRecord, DeviceRow, PendingHold, Tx


@dataclass(frozen=True)
class Operator:
    """Who performed an admin action, as the audit log records it."""

    actor: str


def lock_device(
    context: ServerContext, ident: str, *, reason: str, message: str | None, operator: Operator
) -> DeviceView:
    """Hold a device: locked at its next contact (its first, for a device not seen yet)."""
    policy, now = context.policy, context.now()
    located = locate(context, ident)  # before the write lock
    with context.store.transaction() as tx:
        found = find_device(tx, located, for_hold=True)
        if isinstance(found, PendingHold):
            hold = PendingHold(target=found.target, reason=reason, message=message, at=now)
            tx.put_pending_hold(hold)
            view = pending_view(hold)
        else:
            memory = DeviceMemory.from_json(dict(found.memory))
            held = place_hold(memory, reason=reason, message=message, at=now)
            found = _with_memory(found, held)
            tx.save_device(found)
            view = device_view_in(tx, policy, found, now)
        tx.append_audit(
            _action(
                "lock",
                operator,
                policy,
                now,
                view,
                inputs={"target": ident, "reason": reason, "message": message},
                rule="operator:hold",
                detail={"delivery": _delivery(view)},
            )
        )
    return view


def release_device(
    context: ServerContext, ident: str, *, reason: str, operator: Operator
) -> DeviceView:
    """Release one device: activated (reason RELEASED) at its next contact."""
    policy, now = context.policy, context.now()
    located = locate(context, ident)  # before the write lock
    with context.store.transaction() as tx:
        found = find_device(tx, located)
        view = _release_audited(tx, policy, found, ident, reason, now, operator, bulk=False)
        if view is None:
            raise NothingToRelease(f"{ident} is neither held, flagged nor locked")
    return view


def release_all(context: ServerContext, *, reason: str, operator: Operator) -> BulkRelease:
    """Release every held, flagged or locked device (and drop every pending hold)."""
    policy, now = context.policy, context.now()
    released: list[str] = []
    with context.store.transaction() as tx:
        candidates: list[DeviceRow | PendingHold] = [*tx.pending_holds(), *tx.devices()]
        for found in candidates:
            name = found.target if isinstance(found, PendingHold) else found.serial
            view = _release_audited(tx, policy, found, name, reason, now, operator, bulk=True)
            if view is not None:
                released.append(name)
        tx.append_audit(
            AuditRecord(
                at=now,
                kind="bulk-release",
                actor=operator.actor,
                rule="operator:bulk-release",
                policy_version=policy.version,
                inputs={"reason": reason},
                detail={"released": released},
            )
        )
    return BulkRelease(reason=reason, released=released)


def _release_audited(
    tx: Tx,
    policy: Policy,
    found: DeviceRow | PendingHold,
    target: str,
    reason: str,
    now: int,
    operator: Operator,
    *,
    bulk: bool,
) -> DeviceView | None:
    """Release ``found`` and audit it, one row per device; None if there was nothing to release."""
    view = _release(tx, policy, found, reason=reason, now=now, bulk=bulk)
    if view is not None:
        tx.append_audit(
            _action(
                "release",
                operator,
                policy,
                now,
                view,
                inputs={"target": target, "reason": reason},
                rule="operator:bulk-release" if bulk else "operator:release",
                detail={
                    "pardoned": _pardoned(found, tx),
                    "bulk": bulk,
                    "delivery": _delivery(view),
                },
            )
        )
    return view


def _release(
    tx: Tx, policy: Policy, found: DeviceRow | PendingHold, *, reason: str, now: int, bulk: bool
) -> DeviceView | None:
    if isinstance(found, PendingHold):
        tx.drop_pending_hold(found.target)
        return pending_view(found)
    memory = DeviceMemory.from_json(dict(found.memory))
    freed = release(policy, memory, market=found.market, reason=reason, at=now, bulk=bulk)
    if freed is None:
        return None
    row = _with_memory(found, freed)
    tx.save_device(row)
    return device_view_in(tx, policy, row, now)


def _delivery(view: DeviceView) -> str | None:
    """``"lock pending"``, ``"release pending"``: what the action left waiting (None: nothing,
    e.g. a hold on a phone its territory already locks)."""
    delivery = view.delivery
    if delivery is None or delivery.state != "pending":
        return None
    return f"{delivery.kind} pending"


def _pardoned(found: DeviceRow | PendingHold, tx: Tx) -> list[str]:
    if isinstance(found, PendingHold):
        return []
    row = tx.device(found.serial)
    return [] if row is None else sorted(DeviceMemory.from_json(dict(row.memory)).pardoned)


def _with_memory(row: DeviceRow, memory: DeviceMemory) -> DeviceRow:
    return DeviceRow(
        row.serial,
        row.imeis,
        row.model,
        row.market,
        row.first_seen,
        row.last_seen,
        row.status,
        row.reason,
        row.last_sequence,
        memory=memory.to_json(),
    )


def _action(
    kind: str,
    operator: Operator,
    policy: Policy,
    now: int,
    view: DeviceView,
    *,
    inputs: dict[str, object],
    rule: str,
    detail: dict[str, object] | None = None,
) -> AuditRecord:
    return AuditRecord(
        at=now,
        kind=kind,
        actor=operator.actor,
        serial=view.serial,
        imei=view.imeis[0] if view.imeis else None,
        inputs=inputs,
        rule=rule,
        policy_version=policy.version,
        detail=detail or {},
    )
