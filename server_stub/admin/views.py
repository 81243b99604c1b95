"""What the operator sees of devices: the list, one device in full, audit entries.

Views are computed, not stored: a device's state is what the engine would decide if it checked
in now with the SIMs it last reported, under the policy in force now.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from phone_sim.protocol.imei import is_valid_imei
from phone_sim.protocol.messages import VerdictStatus
from server_stub.admin.models import (
    AccountView,
    AuditEntry,
    DeliveryView,
    DeviceDetail,
    DeviceList,
    DeviceView,
    FlagView,
    FleetPage,
    HoldView,
    ReleaseView,
    VerdictSummary,
)
from server_stub.engine.context import ServerContext
from server_stub.engine.decide import project, state_name
from server_stub.engine.delivery import Delivery, DeliveryKind, DeliveryState, current
from server_stub.engine.memory import DeviceMemory
from server_stub.errors import BadIdentifier, DeviceNotFound
from server_stub.policy import Network, Policy
from server_stub.policy.regions import country_of
from server_stub.store.accounts import Binding
from server_stub.store.db import AuditRow, DeliveryRow, DeviceRow, PendingHold, Tx

_SERIAL = re.compile(r"^[A-Za-z0-9]{4,32}$")


def account_view(binding: Binding | None) -> AccountView | None:
    if binding is None:
        return None
    return AccountView(
        name=binding.account,
        find_device=binding.find_device,
        locked=binding.locked,
        bound_at=binding.bound_at,
        locked_at=binding.locked_at,
    )


def device_view(
    policy: Policy,
    row: DeviceRow,
    now: int,
    latest: DeliveryRow | None = None,
    *,
    binding: Binding | None = None,
    unblock_codes: bool = False,
) -> DeviceView:
    """``latest``: the device's latest delivery (``Tx.latest_deliveries``), if it has one;
    ``binding``: its account; ``unblock_codes``: the vendor holds its key (PROTOCOL.md 13.3)."""
    memory = DeviceMemory.from_json(dict(row.memory))
    projected = project(policy, memory, market=row.market, at=now)
    first = memory.activation_sims[0] if memory.activation_sims else None
    territory = None
    if first is not None:
        found = policy.territory_of(Network(first.home_mcc, first.home_mnc))
        territory = found.name if found is not None else country_of(first.home_mcc)
    return DeviceView(
        serial=row.serial,
        imeis=list(row.imeis),
        model=row.model,
        market=row.market,
        state=state_name(memory, projected),
        status=memory.last_status,
        reason=row.reason,
        activation_network=None if first is None else first.home,
        activation_territory=territory,
        activated_at=memory.activated_at,
        last_contact=row.last_seen,
        # Only a lock still to come: once locked, the verdicts say when.
        lock_due_at=projected.lock_due_at if projected.status is VerdictStatus.ACTIVATED else None,
        hold=None if memory.hold is None else HoldView(**vars(memory.hold)),
        release=None if memory.release is None else ReleaseView(**vars(memory.release)),
        delivery=delivery_view(current(memory, projected, latest)),
        account=account_view(binding),
        unblock_codes=unblock_codes,
    )


def delivery_view(delivery: Delivery | None) -> DeliveryView | None:
    if delivery is None:
        return None
    return DeliveryView(
        kind=delivery.kind.value,
        state=delivery.state.value,
        decided_at=delivery.decided_at,
        delivered_at=delivery.delivered_at,
        sequence=delivery.sequence,
    )


def device_view_in(tx: Tx, policy: Policy, row: DeviceRow, now: int) -> DeviceView:
    """:func:`device_view` with the delivery, account and key the store holds for the device."""
    latest = tx.deliveries(row.serial, last=1)
    return device_view(
        policy,
        row,
        now,
        latest[-1] if latest else None,
        binding=tx.accounts.binding(row.serial),
        unblock_codes=tx.accounts.device_key(row.serial) is not None,
    )


def pending_view(hold: PendingHold) -> DeviceView:
    imei = hold.target if is_valid_imei(hold.target) else None
    return DeviceView(
        serial=None if imei else hold.target,
        imeis=[imei] if imei else [],
        model=None,
        market=None,
        state="never-seen",
        status=None,
        reason=None,
        activation_network=None,
        activation_territory=None,
        activated_at=None,
        last_contact=None,
        lock_due_at=None,
        hold=HoldView(reason=hold.reason, message=hold.message, at=hold.at),
        release=None,
        # Decided, and waiting for the device's first contact.
        delivery=delivery_view(Delivery(DeliveryKind.LOCK, DeliveryState.PENDING, hold.at)),
    )


def entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        kind=row.kind,
        actor=row.actor,
        serial=row.serial,
        imei=row.imei,
        inputs=dict(row.inputs),
        rule=row.rule,
        policy_version=row.policy_version,
        status=row.status,
        reason=row.reason,
        sequence=row.sequence,
        detail=dict(row.detail),
    )


def list_devices(context: ServerContext) -> DeviceList:
    policy, now = context.policy, context.now()
    with context.store.read() as tx:  # committed rows only, never a batch still being written
        rows, pending, latest = tx.devices(), tx.pending_holds(), tx.latest_deliveries()
        bindings, keyed = tx.accounts.bindings(), tx.accounts.keyed_serials()
    views = [pending_view(h) for h in pending] + [
        device_view(
            policy,
            r,
            now,
            latest.get(r.serial),
            binding=bindings.get(r.serial),
            unblock_codes=r.serial in keyed,
        )
        for r in rows
    ]
    return DeviceList(devices=views)


def fleet_page(context: ServerContext, *, limit: int, idents: Sequence[str] = ()) -> FleetPage:
    """The devices named by ``idents`` (a serial or IMEI each; one not known is left out), then
    the ``limit`` pending holds placed last and the ``limit`` devices met last: what reading them
    costs does not grow with the fleet, unlike :func:`list_devices`."""
    policy, now = context.policy, context.now()
    with context.store.read() as tx:
        named: list[DeviceRow | PendingHold] = []
        for ident in idents:
            try:
                named.append(find_device(tx, ident))
            except DeviceNotFound:
                continue
        holds = tx.pending_holds()
        last: list[DeviceRow | PendingHold] = [*holds[-limit:], *tx.devices_met_last(limit)]
        seen: set[str] = set()
        views: list[DeviceView] = []
        for found in [*named, *last]:
            key = found.target if isinstance(found, PendingHold) else found.serial
            if key in seen:
                continue
            seen.add(key)
            view = (
                pending_view(found)
                if isinstance(found, PendingHold)
                else device_view_in(tx, policy, found, now)
            )
            views.append(view)
        total = tx.device_count() + len(holds)
    return FleetPage(devices=views, total=total)


def show_device(context: ServerContext, ident: str) -> DeviceDetail:
    policy, now = context.policy, context.now()
    with context.store.read() as tx:
        found = find_device(tx, ident)
        view = None if isinstance(found, PendingHold) else device_view_in(tx, policy, found, now)
        delivered = [] if isinstance(found, PendingHold) else tx.deliveries(found.serial)
    if isinstance(found, PendingHold):
        view = pending_view(found)
        return DeviceDetail(
            **view.model_dump(),
            activation_sims=[],
            last_sims=[],
            flags=[],
            pardoned=[],
            verdicts=[],
            audit=[
                entry(r)
                for r in context.store.audit(
                    limit=20, serial=view.serial, imei=None if view.serial else found.target
                )
            ],
        )
    memory = DeviceMemory.from_json(dict(found.memory))
    projected = project(policy, memory, market=found.market, at=now)
    assert view is not None
    return DeviceDetail(
        **view.model_dump(),
        activation_sims=list(memory.activation_sims),
        last_sims=list(memory.last_sims),
        flags=[FlagView(**f.to_json()) for f in projected.memory.flags],
        pardoned=sorted(memory.pardoned),
        verdicts=[
            VerdictSummary(
                sequence=v.sequence,
                status=v.status,
                reason=v.reason,
                policy_version=v.policy_version,
                issued_at=v.issued_at,
            )
            for v in context.store.verdicts(found.serial, last=10)
        ],
        audit=[entry(r) for r in context.store.audit(limit=20, serial=found.serial)],
        deliveries=[
            dv for dv in (delivery_view(Delivery.of(d)) for d in delivered) if dv is not None
        ],
    )


def _is_imei(ident: str) -> bool:
    """Whether ``ident`` is an IMEI (else a serial); neither is a :class:`BadIdentifier`."""
    looks_like_imei = len(ident) == 15 and ident.isdigit()
    if looks_like_imei and not is_valid_imei(ident):
        raise BadIdentifier(f"{ident!r} is 15 digits but not a valid IMEI (check digit)")
    if not looks_like_imei and not _SERIAL.match(ident):
        raise BadIdentifier(f"{ident!r} is neither a serial (4-32 letters or digits) nor an IMEI")
    return looks_like_imei


@dataclass(frozen=True)
class Located:
    """Where an operator's serial or IMEI points, looked up before the write lock is taken."""

    ident: str
    #: the device's serial (an IMEI's device, found), or None: no device has this IMEI
    serial: str | None


def locate(context: ServerContext, ident: str) -> Located:
    """The device a serial or IMEI names, looked up in a snapshot, holding no lock: finding a
    device by its IMEI reads every device's (0.2-0.6 s at 1,000,000 devices), and inside the
    write transaction every contact would wait for it
    (docs/decisions/imei-lookups-outside-the-write-lock.md)."""
    if not _is_imei(ident):
        return Located(ident, ident)
    with context.store.read() as tx:
        row = tx.device_by_imei(ident)
    return Located(ident, None if row is None else row.serial)


def find_device(tx: Tx, ident: str | Located, *, for_hold: bool = False) -> DeviceRow | PendingHold:
    """The device with this serial or IMEI, or its pending hold.

    ``ident`` found by :func:`locate`: its device is fetched by its serial (an IMEI's device
    that appeared since it was located is not: a hold placed on the IMEI reaches it at its next
    contact, which claims the holds on its IMEIs). With ``for_hold``, an unknown but
    well-formed identifier gives an empty pending hold to fill in (a hold on a device that has
    not been seen yet).
    """
    located = ident if isinstance(ident, Located) else None
    name = ident.ident if isinstance(ident, Located) else ident
    if located is not None:
        row = None if located.serial is None else tx.device(located.serial)
    else:
        row = tx.device_by_imei(name) if _is_imei(name) else tx.device(name)
    if row is not None:
        return row
    for hold in tx.pending_holds([name]):
        return hold
    if for_hold:
        return PendingHold(target=name, reason="", message=None, at=0)
    raise DeviceNotFound(f"no device or pending hold has the serial or IMEI {name!r}")
