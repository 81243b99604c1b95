"""The decision over time: what one device gets at each contact, given what the server remembers.

Pure functions over frozen values; the store keeps a :class:`DeviceMemory` per device and the
routes call :func:`evaluate` inside the transaction that records the answer.

How a lock comes about (the story: a few days after activation, by the SIM operator):

* **Flags.** A flag is evidence with the time it was first seen. *Activation* flags come from
  the SIMs of the first activation (home operator; also the serving network if the policy's
  ``match.sim_data`` includes "serving"); they stick for the life of the device, so a factory
  reset or a German SIM later changes nothing (unless the policy turns
  ``activation_territory_sticks`` off). *SIM* flags come from the home operator of a SIM
  in the phone at a contact (never the serving network: a tourist roaming on Cubacel is not
  flagged); they stick too unless the policy sets ``sim_swap_lifts_lock``. A *region* flag
  comes from the region lock (first activation SIM outside the firmware market's region).
* **Due.** An embargo lock is due ``enforcement.delay`` after the earliest flag was first seen;
  until then the verdict is "activated" and asks the phone back when the lock is due. A region
  flag or an operator hold locks at once. A flag that has been enforced stays due even if the
  delay is later lengthened, or the clock is earlier than when it was enforced: a lock the
  phone already shows is not undone by a timing change.
* **Release.** An operator release drops the hold and every flag and *pardons* what they were
  for (the territories, the region rule); only new evidence (a SIM from a territory not
  pardoned, or a new hold) flags the device again. A policy change that no longer embargoes a
  territory drops its flags at the next contact. Either way, the first "activated" verdict after
  a "locked" one carries reason ``RELEASED``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from phone_sim.protocol.messages import SimReport, VerdictStatus
from server_stub.engine.memory import DeviceMemory, Flag, Hold, Release, Source
from server_stub.engine.states import DeviceStateName
from server_stub.policy import Network, Policy, Reason, SimData, embargo_hits, region_violation
from server_stub.policy.matching import by_slot

#: Verdicts refuse a next_checkin_after under a minute.
MIN_CHECKIN = 60


@dataclass(frozen=True)
class Outcome:
    """The decision at one contact, why, and the memory to keep afterwards."""

    status: VerdictStatus
    reason: Reason
    message: str
    rule: str
    policy_version: str
    next_checkin_after: int
    lock_due_at: int | None  # the pending embargo lock, if any
    cause: Flag | None
    memory: DeviceMemory

    def detail(self) -> dict[str, Any]:
        """The evidence, for the audit log."""
        return {
            "cause": None if self.cause is None else self.cause.to_json(),
            "flags": [f.to_json() for f in self.memory.flags],
            "lock_due_at": self.lock_due_at,
            "next_checkin_after": self.next_checkin_after,
        }


def evaluate(
    policy: Policy, memory: DeviceMemory, *, market: str, sims: Sequence[SimReport], at: int
) -> Outcome:
    """Decide one contact (activation or check-in) of a device reporting ``sims`` at ``at``."""
    # The first SIMs the device is seen with are its activation SIMs (a phone set up over
    # Wi-Fi without a SIM takes the first SIMs it reports later).
    activation_sims = memory.activation_sims or tuple(by_slot(sims))
    flags, pardoned = _flags(policy, memory, activation_sims, sims, market, at)
    embargo = [f for f in flags if f.source is not Source.REGION]
    due = min((_due(policy, f) for f in embargo), default=None)
    region = next((f for f in flags if f.source is Source.REGION), None)
    interval = policy.enforcement.checkin_interval

    def outcome(
        status: VerdictStatus,
        reason: Reason,
        message: str,
        rule: str,
        *,
        cause: Flag | None = None,
        kept: tuple[Flag, ...] = flags,
        next_checkin_after: int = interval,
    ) -> Outcome:
        new_memory = replace(
            memory,
            activation_sims=activation_sims,
            activated_at=memory.activated_at if memory.activated_at is not None else at,
            last_sims=tuple(by_slot(sims)),
            flags=kept,
            last_status=status,
            last_contact=at,
        )
        return Outcome(
            status=status,
            reason=reason,
            message=message,
            rule=rule,
            policy_version=policy.version,
            next_checkin_after=next_checkin_after,
            lock_due_at=due,
            cause=cause,
            memory=new_memory,
        )

    locked = VerdictStatus.LOCKED
    if memory.hold is not None:
        message = memory.hold.message or policy.hold_message
        return outcome(locked, Reason.INVESTIGATION_HOLD, message, "hold")
    if region is not None and policy.region_lock is not None:
        rule = f"region:{policy.region_lock.rule_for(region.territory)}"
        return outcome(locked, Reason.REGION_LOCKED, policy.region_lock.message, rule, cause=region)
    # A lock once delivered stays whatever the clock says: only a release or a policy change
    # lifts it (its flag is then gone), never time running back over history.
    delivered = any(f.enforced_at is not None for f in embargo)
    if due is not None and (due <= at or delivered):
        cause = min(embargo, key=lambda f: _due(policy, f))
        enforced = tuple(
            replace(f, enforced_at=at)
            if f.enforced_at is None and f in embargo and _due(policy, f) <= at
            else f
            for f in flags
        )
        rule = f"embargo:{cause.source.value}:{cause.data}"
        return outcome(
            locked,
            Reason.EMBARGOED_TERRITORY,
            policy.lock_message,
            rule,
            cause=cause,
            kept=enforced,
        )
    activated = VerdictStatus.ACTIVATED
    # Come back when the lock is due, so it is delivered then and not a day late.
    next_after = interval if due is None else max(MIN_CHECKIN, min(interval, due - at))
    if memory.last_status is locked:
        by_operator = memory.release is not None and (
            memory.last_contact is None or memory.release.at >= memory.last_contact
        )
        rule = "release:operator" if by_operator else "release:re-evaluated"
        return outcome(
            activated, Reason.RELEASED, policy.release_message, rule, next_checkin_after=next_after
        )
    if due is not None:
        rule = "flagged:lock-pending"
    elif pardoned:
        rule = "pardoned"  # embargoed, but a release forgave exactly this
    elif not activation_sims and not sims:
        rule = "no-sim"
    else:
        rule = "no-embargoed-network"
    return outcome(
        activated,
        Reason.ACTIVATION_OK,
        policy.activation_message,
        rule,
        next_checkin_after=next_after,
        cause=min(embargo, key=lambda f: _due(policy, f)) if embargo else None,
    )


def _due(policy: Policy, flag: Flag) -> int:
    return (
        flag.enforced_at if flag.enforced_at is not None else flag.since + policy.enforcement.delay
    )


def _flags(
    policy: Policy,
    memory: DeviceMemory,
    activation_sims: Sequence[SimReport],
    sims: Sequence[SimReport],
    market: str,
    at: int,
) -> tuple[tuple[Flag, ...], bool]:
    """The flags in force now (found again under this policy, or kept as sticky evidence), and
    whether any evidence was left out because a release pardoned it."""
    previous = {f.key: f for f in memory.flags}
    found: dict[str, Flag] = {}
    pardoned = False

    def add(flag: Flag) -> None:
        nonlocal pardoned
        if flag.pardon in memory.pardoned:
            pardoned = True
            return
        # The SIM the phone was activated with is activation evidence already; one flag will do.
        duplicate = flag.source is Source.SIM and f"activation:{flag.network}" in found
        if flag.key in found or duplicate:
            return
        old = previous.get(flag.key)
        found[flag.key] = (
            flag if old is None else replace(flag, since=old.since, enforced_at=old.enforced_at)
        )

    activation_hits = (
        embargo_hits(policy, activation_sims, policy.match.sim_data)
        if policy.enforcement.activation_territory_sticks
        else []
    )
    for hit in activation_hits:
        add(
            _embargo_flag(
                Source.ACTIVATION, hit.slot, hit.data, hit.network, hit.territory.name, at
            )
        )
    if SimData.HOME in policy.match.sim_data:
        for hit in embargo_hits(policy, sims, (SimData.HOME,)):
            add(_embargo_flag(Source.SIM, hit.slot, hit.data, hit.network, hit.territory.name, at))
        if not policy.enforcement.sim_swap_lifts_lock:
            # Sticky: a SIM flag outlives the SIM, for as long as its network is embargoed.
            for old in memory.flags:
                territory = policy.territory_of(Network.parse(old.network))
                if old.source is Source.SIM and territory is not None:
                    add(replace(old, territory=territory.name))
    violation = region_violation(policy, market, activation_sims)
    if violation is not None:
        add(Flag(Source.REGION, market, str(violation.network), violation.slot, "home", since=at))
    return tuple(found.values()), pardoned


def _embargo_flag(
    source: Source, slot: int, data: SimData, network: Network, territory: str, at: int
) -> Flag:
    return Flag(source, territory, str(network), slot, data.value, since=at)


# --- operator actions -------------------------------------------------------------------------


def place_hold(memory: DeviceMemory, *, reason: str, message: str | None, at: int) -> DeviceMemory:
    """Lock the device at its next contact, whatever the policy says, until released."""
    return replace(memory, hold=Hold(reason=reason, message=message, at=at))


def release(
    policy: Policy, memory: DeviceMemory, *, market: str, reason: str, at: int, bulk: bool = False
) -> DeviceMemory | None:
    """Drop the hold and every flag, pardoning what they were for; None if there was nothing."""
    active = project(policy, memory, market=market, at=at).memory.flags
    if memory.hold is None and not active:
        return None
    return replace(
        memory,
        hold=None,
        flags=(),
        pardoned=memory.pardoned | {f.pardon for f in active},
        release=Release(reason=reason, at=at, bulk=bulk),
    )


def project(policy: Policy, memory: DeviceMemory, *, market: str, at: int) -> Outcome:
    """What the device would be told if it checked in now with the SIMs it last reported."""
    return evaluate(policy, memory, market=market, sims=memory.last_sims, at=at)


def state_name(memory: DeviceMemory, projected: Outcome) -> DeviceStateName:
    """The operator's one-word summary of a device that has been seen."""
    if memory.hold is not None:
        return "held"
    if projected.status is VerdictStatus.LOCKED:
        return "locked"
    if memory.last_status is VerdictStatus.LOCKED:
        return "released"  # decided, not yet delivered: the phone is still locked
    if projected.lock_due_at is not None:
        return "flagged"
    return "activated"
