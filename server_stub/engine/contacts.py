"""A device's activation, check-in or account request, end to end: decide, record, sign.

One transaction each. The nonce, the decision memory, the verdict, the activation record and the
audit entry are written together or not at all, and the memory is read in the same transaction,
so concurrent requests from one device are decided one after the other.

Version 2 (PROTOCOL.md section 13): a request that says ``protocol`` 2 gets a version 2 verdict,
which carries the vendor's agreement key and the device's account, and the device's certified
key is kept (the operator's unblock codes need it). The account lock (``accounts``) overrides
the policy's answer while it holds; the policy's decision is kept all the same. An account
request's wrong password is recorded (nonce, failure, audit) and then refused with 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from phone_sim.protocol.account import (
    ACCOUNT_LOCK_MESSAGE,
    ACCOUNT_LOCKED_REASON,
    AccountError,
    PasswordWrong,
    mask_account,
)
from phone_sim.protocol.contact import ContactKind
from phone_sim.protocol.device_secret import encode_device_key
from phone_sim.protocol.identity import DeviceClaims
from phone_sim.protocol.messages import (
    PROTOCOL_V2,
    PROTOCOL_VERSION,
    ActivationRequest,
    Verdict,
    VerdictStatus,
)
from phone_sim.protocol.signing import JSON, SignatureCheck, WireResponse, sign_verdict_response
from server_stub.engine import accounts
from server_stub.engine.context import ServerContext
from server_stub.engine.decide import Outcome, evaluate, place_hold
from server_stub.engine.delivery import delivered_now
from server_stub.engine.memory import DeviceMemory
from server_stub.engine.notices import lock_screen_fields
from server_stub.policy import Policy
from server_stub.store.accounts import Binding, DeviceKey
from server_stub.store.db import AuditRecord, DeliveryRow, DeviceRow, Tx


@dataclass(frozen=True)
class AuthenticatedDevice:
    """A request whose signature, certificate and claims have all been verified."""

    request: ActivationRequest
    claims: DeviceClaims
    signature: SignatureCheck
    #: the certified key (from the chain): a version 2 contact keeps it for unblock codes
    public_key: ec.EllipticCurvePublicKey | None = None


@dataclass(frozen=True)
class Answer:
    """What the contact's answer says, after the account lock had its say."""

    status: VerdictStatus
    reason: str
    message: str
    rule: str
    binding: Binding | None


def answer_contact(
    context: ServerContext,
    device: AuthenticatedDevice,
    kind: ContactKind,
    account: accounts.AccountAttempt | None = None,
) -> WireResponse:
    """Decide this contact and return the signed 200 answer to send.

    ``account``: an account request's action, its password already checked.

    Raises:
        PasswordWrong: after recording the failure (the request's nonce is used).
    """
    policy = context.policy  # one read: the whole decision uses one policy
    now = context.now()
    claims, request = device.claims, device.request
    changed: accounts.AccountChange | None = None
    with context.store.transaction() as tx:
        tx.reserve_nonce(
            request.nonce,
            at=now,
            expires_at=now + int(context.settings.nonce_ttl.total_seconds()),
        )
        row = tx.device(claims.serial)
        if account is not None:
            if row is None:
                raise AccountError("the vendor does not know this device: activate it first")
            changed = accounts.apply(tx.accounts, account, serial=claims.serial, now=now)
            tx.append_audit(_account_audit(changed, claims, policy, now))
            # A wrong password is recorded (failure, audit, nonce) and answered with no verdict.
            failed = changed.failed
            wire = None if failed else _decide(context, policy, tx, device, kind, row, now, changed)
        else:
            wire = _decide(context, policy, tx, device, kind, row, now, None)
    if wire is None:
        assert changed is not None
        raise PasswordWrong(
            f"wrong password for {mask_account(changed.account)}: {changed.attempts_left} "
            "attempt(s) left before a wait of up to 24 hours"
        )
    return wire


def _decide(
    context: ServerContext,
    policy: Policy,
    tx: Tx,
    device: AuthenticatedDevice,
    kind: ContactKind,
    row: DeviceRow | None,
    now: int,
    changed: accounts.AccountChange | None,
) -> WireResponse:
    """The body of a contact's transaction once the nonce is reserved: decide, sign, record."""
    claims, request = device.claims, device.request
    memory = DeviceMemory() if row is None else DeviceMemory.from_json(dict(row.memory))
    memory = _claim_pending_holds(tx, memory, (claims.serial, *claims.imeis))
    outcome = evaluate(policy, memory, market=claims.market, sims=request.sims, at=now)
    binding, engaged = accounts.engage(tx.accounts, claims.serial, kind, now=now)
    answer = _answer(outcome, binding)
    sequence = (0 if row is None else row.last_sequence) + 1
    verdict = _verdict(context, policy, device, outcome, answer, now, sequence)
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
            status=answer.status.value,
            reason=answer.reason,
            last_sequence=sequence,
            memory=outcome.memory.to_json(),
        )
    )
    if verdict.agreement_key is not None and device.public_key is not None:
        # From now on the device holds its secret: the operator can make it unblock codes.
        tx.accounts.remember_key(
            DeviceKey(claims.serial, encode_device_key(device.public_key), since=now)
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
        tx.add_activation(claims.serial, at=now, sims=sims, nonce=request.nonce, decision=decision)
    tx.add_verdict(
        claims.serial,
        sequence=sequence,
        status=answer.status.value,
        reason=answer.reason,
        policy_version=outcome.policy_version,
        issued_at=now,
        body=body,
    )
    delivered = delivered_now(memory, outcome, serial=claims.serial, sequence=sequence, at=now)
    if delivered is not None:
        tx.add_delivery(delivered)
    if engaged:
        assert binding is not None
        tx.append_audit(
            AuditRecord(
                at=now,
                kind="account-lock",
                actor="device",
                serial=claims.serial,
                imei=claims.imeis[0],
                inputs={"contact": kind.value, "nonce": request.nonce},
                rule="account:reset-with-find-device",
                policy_version=outcome.policy_version,
                detail={"account": binding.account, "bound_at": binding.bound_at},
            )
        )
    detail = outcome.detail() | _delivery_detail(delivered)
    if answer.rule != outcome.rule:  # the account lock spoke instead of the policy
        detail = detail | {
            "policy": {
                "status": outcome.status.value,
                "reason": outcome.reason.value,
                "rule": outcome.rule,
            }
        }
    tx.append_audit(
        AuditRecord(
            at=now,
            kind=kind,
            actor="device",
            serial=claims.serial,
            imei=claims.imeis[0],
            inputs=_inputs(device, outcome, first_contact=row is None, changed=changed),
            rule=answer.rule,
            policy_version=outcome.policy_version,
            status=answer.status.value,
            reason=answer.reason,
            sequence=sequence,
            detail=detail,
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


def _answer(outcome: Outcome, binding: Binding | None) -> Answer:
    """The policy's answer, unless the account lock holds: then ``ACCOUNT_LOCKED``."""
    if binding is not None and binding.locked:
        return Answer(
            VerdictStatus.LOCKED,
            ACCOUNT_LOCKED_REASON,
            ACCOUNT_LOCK_MESSAGE,
            "account-lock",
            binding,
        )
    return Answer(outcome.status, outcome.reason.value, outcome.message, outcome.rule, binding)


def _account_audit(
    changed: accounts.AccountChange, claims: DeviceClaims, policy: Policy, now: int
) -> AuditRecord:
    return AuditRecord(
        at=now,
        kind=changed.kind,
        actor="device",
        serial=claims.serial,
        imei=claims.imeis[0],
        inputs={"account": changed.account},  # never the password, sealed or not
        rule=changed.rule,
        policy_version=policy.version,
        detail=changed.detail(),
    )


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
    answer: Answer,
    now: int,
    sequence: int,
) -> Verdict:
    offline = policy.offline
    # A version 1 request gets version 1's bytes: none of version 2's fields. A version 2
    # request gets a version 2 verdict: the agreement key always, the rest as they apply.
    v2 = device.request.protocol >= PROTOCOL_V2
    extras = lock_screen_fields(policy, outcome) if v2 else {}
    if answer.status is not VerdictStatus.ACTIVATED:
        extras.pop("lock_warning", None)  # the account lock holds: nothing to warn ahead of
    return Verdict(
        protocol=PROTOCOL_V2 if v2 else PROTOCOL_VERSION,
        device_serial=device.claims.serial,
        imei=device.claims.imeis[0],
        status=answer.status,
        reason=answer.reason,
        message=answer.message,
        nonce=device.request.nonce,
        issued_at=now,
        expires_at=now + int(context.settings.verdict_ttl.total_seconds()),
        sequence=sequence,
        policy_version=outcome.policy_version,
        next_checkin_after=outcome.next_checkin_after,
        offline_lock_after=None if offline is None else offline.lock_after,
        offline_warning_before=None if offline is None else offline.warn_before,
        agreement_key=context.agreement_public if v2 else None,
        account=accounts.account_status(answer.binding) if v2 else None,
        **extras,
    )


def _inputs(
    device: AuthenticatedDevice,
    outcome: Outcome,
    *,
    first_contact: bool,
    changed: accounts.AccountChange | None,
) -> dict[str, Any]:
    report = device.request.device
    extra: dict[str, Any] = {"protocol": device.request.protocol}
    if changed is not None:
        extra["account"] = {"action": changed.kind, "name": changed.account}
    return extra | {
        "sims": [sim.model_dump(mode="json") for sim in device.request.sims],
        "activation_sims": [s.model_dump(mode="json") for s in outcome.memory.activation_sims],
        "market": report.market,
        "model": report.model,
        "firmware": report.firmware,
        "bootloader_unlocked": report.bootloader_unlocked,
        "nonce": device.request.nonce,
        "first_contact": first_contact,
    }
