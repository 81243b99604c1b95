"""The operator's account and unblock-code actions (docs/OPERATOR.md section 7).

* **Clear the account lock**: the device is unbound from its account (Find Device off, as a
  support agent does after a proof of purchase): the lock lifts at its next contact and a later
  factory reset does not bring it back.
* **An unblock code** for a phone that cannot reach the vendor: the operator types the challenge
  its lock screen shows and reads out the code (PROTOCOL.md 13.3). Making it **releases** the
  device here as ``release`` does (when it is held or flagged), so the vendor honours the unblock
  at the phone's next contact instead of locking it again.

Each action is one transaction with its audit entry; a code itself is never written down.
"""

from __future__ import annotations

from phone_sim.protocol.device_secret import (
    DeviceSecret,
    UnblockPurpose,
    decode_device_key,
    normalise_digits,
    unblock_code,
)
from server_stub.admin.models import DeviceView, UnblockCode
from server_stub.admin.ops import Operator, _action, _release_audited
from server_stub.admin.views import device_view_in, find_device, locate
from server_stub.engine.context import ServerContext
from server_stub.errors import ApiError
from server_stub.store.db import AuditRecord, PendingHold

#: what an unblock code's release says when the operator gives no reason
UNBLOCK_REASON = "unblock code"


class NoAccount(ApiError):
    """The device is signed in to no account: there is no account lock to clear."""

    status = 409
    code = "no_account"


class NoUnblockKey(ApiError):
    """The vendor holds no key for the device (it never had a version 2 verdict)."""

    status = 409
    code = "no_unblock_key"


def clear_account_lock(
    context: ServerContext, ident: str, *, reason: str, operator: Operator
) -> DeviceView:
    """Unbind the device from its account: no account lock now, nor after a reset."""
    policy, now = context.policy, context.now()
    located = locate(context, ident)  # before the write lock
    with context.store.transaction() as tx:
        found = find_device(tx, located)
        binding = None if isinstance(found, PendingHold) else tx.accounts.binding(found.serial)
        if isinstance(found, PendingHold) or binding is None:
            raise NoAccount(f"{ident} is signed in to no account")
        tx.accounts.drop_binding(binding.serial)
        view = device_view_in(tx, policy, found, now)
        tx.append_audit(
            _action(
                "account-clear",
                operator,
                policy,
                now,
                view,
                inputs={"target": ident, "reason": reason},
                rule="operator:account-clear",
                detail={
                    "account": binding.account,
                    "was_locked": binding.locked,
                    "find_device": binding.find_device,
                },
            )
        )
    return view


def make_unblock_code(
    context: ServerContext,
    ident: str,
    *,
    challenge: str,
    reason: str | None,
    operator: Operator,
) -> UnblockCode:
    """The code that answers ``challenge`` on this device, and the release it stands for."""
    policy, now = context.policy, context.now()
    challenge = normalise_digits(challenge)
    located = locate(context, ident)  # before the write lock
    with context.store.transaction() as tx:
        found = find_device(tx, located)
        key = None if isinstance(found, PendingHold) else tx.accounts.device_key(found.serial)
        if isinstance(found, PendingHold) or key is None:
            raise NoUnblockKey(
                f"{ident} holds no unblock secret: the vendor never sent it a version 2 verdict"
            )
        secret = DeviceSecret.at_vendor(
            context.agreement, decode_device_key(key.public_key), found.serial
        )
        code = unblock_code(secret, challenge, UnblockPurpose.RELEASE)
        why = reason or UNBLOCK_REASON
        released = (
            _release_audited(tx, policy, found, ident, why, now, operator, bulk=False) is not None
        )
        tx.append_audit(
            AuditRecord(
                at=now,
                kind="unblock-code",
                actor=operator.actor,
                serial=found.serial,
                imei=found.imeis[0] if found.imeis else None,
                # The challenge, never the code: the log must not hold what unlocks a phone.
                inputs={"target": ident, "challenge": challenge, "reason": why},
                rule="operator:unblock-code",
                policy_version=policy.version,
                detail={"purpose": UnblockPurpose.RELEASE.value, "released": released},
            )
        )
    return UnblockCode(
        serial=found.serial,
        challenge=challenge,
        code=code,
        purpose=UnblockPurpose.RELEASE.value,
        released=released,
    )
