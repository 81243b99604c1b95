"""Which policy is in force, and replacing it: at start (``--policy``) or by the operator (PUT).

The policy in force lives in ``DATA/policy.toml`` once one has been installed; until then the
packaged default decides (and a newer packaged default applies after an upgrade). A policy is
installed only after it validates: a bad one is refused with the reason and the old one stays,
in memory and on disk, so a restart comes back with the policy that was in force.
"""

from __future__ import annotations

from phone_sim.protocol.clock import Clock
from phone_sim.protocol.files import atomic_write
from server_stub.admin.models import PolicyReplaced
from server_stub.admin.ops import Operator
from server_stub.datadir.settings import ServerSettings
from server_stub.engine.context import ServerContext
from server_stub.errors import PolicyError, PolicyRejected, PolicyVersionConflict
from server_stub.policy import default_policy_text, parse_policy, read_policy_text
from server_stub.policy.keeper import POLICY_FILE_MODE, PolicyInForce
from server_stub.store.db import AuditRecord, Store

DEFAULT_SOURCE = "packaged default"


def policy_at_start(settings: ServerSettings, store: Store, clock: Clock) -> PolicyInForce:
    """The policy to serve with, installing ``settings.policy_path`` first if one is given.

    Raises:
        PolicyError: the given file, or the installed policy, does not validate.
    """
    installed = settings.installed_policy_path
    if settings.policy_path is None:
        if installed.exists():
            text = read_policy_text(installed)
            return PolicyInForce(parse_policy(text, source=str(installed)), text, str(installed))
        text = default_policy_text()
        return PolicyInForce(parse_policy(text, source="default.toml"), text, DEFAULT_SOURCE)
    path = settings.policy_path
    text = read_policy_text(path)
    policy = parse_policy(text, source=str(path))
    previous = read_policy_text(installed) if installed.exists() else None
    if previous != text:
        atomic_write(installed, text.encode(), mode=POLICY_FILE_MODE)
        with store.transaction() as tx:
            tx.append_audit(
                AuditRecord(
                    at=int(clock.now()),
                    kind="policy",
                    actor="startup",
                    rule="operator:replace-policy",
                    policy_version=policy.version,
                    inputs={"source": str(path), "text": text},
                    detail={"installed_as": str(installed)},
                )
            )
    return PolicyInForce(policy, text, str(installed))


def replace_policy(context: ServerContext, text: str, operator: Operator) -> PolicyReplaced:
    """Validate ``text`` and make it the policy in force, on disk and in memory.

    Devices hear the consequences at their next contact: a territory no longer embargoed
    releases the devices locked for it ("the affected devices can now be activated").

    Raises:
        PolicyRejected: the text does not validate (the message is the PolicyError's).
        PolicyVersionConflict: a different policy carrying the version already in force.
    """
    try:
        policy = parse_policy(text, source="policy")
    except PolicyError as exc:
        raise PolicyRejected(str(exc)) from None
    policies = context.policies
    # With several server processes the turn is theirs too, and `current` is the policy
    # installed on disk when it begins (server_stub.policy.keeper).
    with policies.turn() as current:
        if policy.version == current.policy.version and text != current.text:
            raise PolicyVersionConflict(
                f"version {policy.version!r} is the policy in force; give the new policy a new "
                "version so that the audit log can tell the two apart"
            )
        # Disk first: if the write fails, the old policy stays in force everywhere.
        policies.write(text)
        with context.store.transaction() as tx:
            tx.append_audit(
                AuditRecord(
                    at=context.now(),
                    kind="policy",
                    actor=operator.actor,
                    rule="operator:replace-policy",
                    policy_version=policy.version,
                    inputs={"text": text},
                    detail={"previous_version": current.policy.version},
                )
            )
        policies.put(PolicyInForce(policy, text, str(policies.path)))
    return PolicyReplaced(version=policy.version, previous_version=current.policy.version)
