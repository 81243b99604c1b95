"""A device's activation or check-in, end to end: decide, record, sign. One transaction each.

The nonce, the decision memory, the verdict, the activation record and the audit entry are
written together or not at all, and the memory is read in the same transaction, so concurrent
requests from one device are decided one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phone_sim.protocol.contact import ContactKind
from phone_sim.protocol.identity import DeviceClaims
from phone_sim.protocol.lock_screen import LOCK_SCREEN_PROTOCOL
from phone_sim.protocol.messages import PROTOCOL_VERSION, ActivationRequest, Verdict
from phone_sim.protocol.signing import JSON, SignatureCheck, WireResponse, sign_verdict_response
from server_stub.engine.context import ServerContext
from server_stub.engine.decide import Outcome, evaluate, place_hold
from server_stub.engine.delivery import delivered_now
from server_stub.engine.memory import DeviceMemory
from server_stub.engine.notices import lock_screen_fields
from server_stub.policy import Policy
from server_stub.store.db import AuditRecord, DeliveryRow, DeviceRow, Tx


@dataclass(frozen=True)
class AuthenticatedDevice:
    """A request whose signature, certificate and claims have all been verified."""

    request: ActivationRequest
    claims: DeviceClaims
    signature: SignatureCheck


def answer_contact(
    context: ServerContext, device: AuthenticatedDevice, kind: ContactKind
) -> WireResponse:
    """Decide this contact and return the signed 200 answer to send."""
    policy = context.policy  # one read: the whole decision uses one policy
    now = context.now()
    claims, request = device.claims, device.request
    with context.store.transaction() as tx:
        tx.reserve_nonce(
            request.nonce,
            at=now,
            expires_at=now + int(context.settings.nonce_ttl.total_seconds()),
        )
        row = tx.device(claims.serial)
        memory = DeviceMemory() if row is None else DeviceMemory.from_json(dict(row.memory))
        memory = _claim_pending_holds(tx, memory, (claims.serial, *claims.imeis))
        outcome = evaluate(policy, memory, market=claims.market, sims=request.sims, at=now)
        sequence = (0 if row is None else row.last_sequence) + 1
        verdict = _verdict(context, policy, device, outcome, now, sequence)
        body = verdict.encode()
        wire = WireResponse(status_code=200, headers={"Content-Type": JSON}, body=body)
        # Signed inside the transaction: if signing failed, nothing would be recorded.
        sign_verdict_response(
            wire, key=context.vendor_key.private, key_id=context.vendor_key.key_id, created=now
        )
        tx.save_device(
            DeviceRow(
                serial=claims.serial,
                imeis=claims.imeis,
                model=claims.model,
                market=claims.market,
                first_seen=now if row is None else row.first_seen,
                last_seen=now,
                status=outcome.status.value,
                reason=outcome.reason.value,
                last_sequence=sequence,
                memory=outcome.memory.to_json(),
            )
        )
        decision = {
            "status": outcome.status.value,
            "reason": outcome.reason.value,
            "rule": outcome.rule,
            "policy_version": outcome.policy_version,
        } | outcome.detail()
        sims = [sim.model_dump(mode="json") for sim in request.sims]
        # A check-in from a device never activated is decided (and recorded) as its activation.
        if kind is ContactKind.ACTIVATION or row is None:
            tx.add_activation(
                claims.serial, at=now, sims=sims, nonce=request.nonce, decision=decision
            )
        tx.add_verdict(
            claims.serial,
            sequence=sequence,
            status=outcome.status.value,
            reason=outcome.reason.value,
            policy_version=outcome.policy_version,
            issued_at=now,
            body=body,
        )
        delivered = delivered_now(memory, outcome, serial=claims.serial, sequence=sequence, at=now)
        if delivered is not None:
            tx.add_delivery(delivered)
        tx.append_audit(
            AuditRecord(
                at=now,
                kind=kind,
                actor="device",
                serial=claims.serial,
                imei=claims.imeis[0],
                inputs=_inputs(device, outcome, first_contact=row is None),
                rule=outcome.rule,
                policy_version=outcome.policy_version,
                status=outcome.status.value,
                reason=outcome.reason.value,
                sequence=sequence,
                detail=outcome.detail() | _delivery_detail(delivered),
            )
        )
    return wire


def _delivery_detail(row: DeliveryRow | None) -> dict[str, Any]:
    """The audit detail of a verdict that delivers a lock or release (``delivered``)."""
    if row is None:
        return {}
    waited = None if row.decided_at is None else max(0, row.delivered_at - row.decided_at)
    return {
        "delivered": {"kind": row.kind, "decided_at": row.decided_at, "pending_seconds": waited}
    }


def _claim_pending_holds(tx: Tx, memory: DeviceMemory, targets: tuple[str, ...]) -> DeviceMemory:
    """Holds placed on this serial or IMEI before the server knew the device become its own."""
    for hold in tx.pending_holds(targets):
        memory = place_hold(memory, reason=hold.reason, message=hold.message, at=hold.at)
        tx.drop_pending_hold(hold.target)
    return memory


def _verdict(
    context: ServerContext,
    policy: Policy,
    device: AuthenticatedDevice,
    outcome: Outcome,
    now: int,
    sequence: int,
) -> Verdict:
    offline = policy.offline
    # Version 2 fields only for a phone that said it reads them; a verdict without them says
    # version 1 and is byte for byte what a version 1 server sends.
    extras = (
        lock_screen_fields(policy, outcome)
        if device.request.protocol >= LOCK_SCREEN_PROTOCOL
        else {}
    )
    return Verdict(
        protocol=LOCK_SCREEN_PROTOCOL if extras else PROTOCOL_VERSION,
        device_serial=device.claims.serial,
        imei=device.claims.imeis[0],
        status=outcome.status,
        reason=outcome.reason.value,
        message=outcome.message,
        nonce=device.request.nonce,
        issued_at=now,
        expires_at=now + int(context.settings.verdict_ttl.total_seconds()),
        sequence=sequence,
        policy_version=outcome.policy_version,
        next_checkin_after=outcome.next_checkin_after,
        offline_lock_after=None if offline is None else offline.lock_after,
        offline_warning_before=None if offline is None else offline.warn_before,
        **extras,
    )


def _inputs(
    device: AuthenticatedDevice, outcome: Outcome, *, first_contact: bool
) -> dict[str, Any]:
    report = device.request.device
    return {
        "sims": [sim.model_dump(mode="json") for sim in device.request.sims],
        "activation_sims": [s.model_dump(mode="json") for s in outcome.memory.activation_sims],
        "market": report.market,
        "model": report.model,
        "firmware": report.firmware,
        "bootloader_unlocked": report.bootloader_unlocked,
        "nonce": device.request.nonce,
        "first_contact": first_contact,
    }
