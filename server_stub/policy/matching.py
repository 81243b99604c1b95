"""Which SIMs of a set the policy finds embargoed or out of region. Pure: no state, no clock.

The decision engine (:mod:`server_stub.engine.decide`) asks these questions of two SIM sets: the SIMs
the phone was first activated with (the activation territory, which sticks) and the SIMs in it
now (a Cubacel home SIM is flagged wherever the phone was activated).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from phone_sim.protocol.messages import SimReport
from server_stub.policy.model import DualSimRule, Network, Policy, RegionRule, SimData, Territory
from server_stub.policy.regions import MARKET_MCCS


@dataclass(frozen=True)
class Hit:
    """One SIM whose network lies in an embargoed territory."""

    slot: int
    data: SimData
    network: Network
    territory: Territory


@dataclass(frozen=True)
class RegionViolation:
    """The first SIM is not from the market's home region."""

    market: str
    rule: RegionRule
    slot: int
    network: Network


def by_slot(sims: Iterable[SimReport]) -> list[SimReport]:
    return sorted(sims, key=lambda s: s.slot)


def embargo_hits(
    policy: Policy, sims: Iterable[SimReport], sim_data: Sequence[SimData]
) -> list[Hit]:
    """The SIMs that make this set embargoed under ``policy.match.dual_sim``, lowest slot first.

    ``sim_data`` says which network of each SIM is judged (home, serving, or both); a SIM is
    hit by the first of them that lies in a territory.
    """
    ordered = by_slot(sims)
    if policy.match.dual_sim is DualSimRule.FIRST:
        ordered = ordered[:1]
    hits = [_hit(policy, sim, sim_data) for sim in ordered]
    found = [hit for hit in hits if hit is not None]
    if policy.match.dual_sim is DualSimRule.ALL and len(found) != len(hits):
        return []
    return found


def _hit(policy: Policy, sim: SimReport, sim_data: Sequence[SimData]) -> Hit | None:
    for data in sim_data:
        if data is SimData.HOME:
            network = Network(sim.home_mcc, sim.home_mnc)
        elif sim.serving_mcc is not None and sim.serving_mnc is not None:
            network = Network(sim.serving_mcc, sim.serving_mnc)
        else:
            continue  # not camped on any network: nothing to judge
        territory = policy.territory_of(network)
        if territory is not None:
            return Hit(sim.slot, data, network, territory)
    return None


def region_violation(
    policy: Policy, market: str, activation_sims: Iterable[SimReport]
) -> RegionViolation | None:
    """The region lock's verdict on the first SIM (lowest slot) the phone was activated with."""
    if policy.region_lock is None:
        return None
    rule = policy.region_lock.rule_for(market)
    ordered = by_slot(activation_sims)
    if rule is None or not ordered:
        return None  # no rule for this market, or no SIM yet to judge
    first = ordered[0]
    if first.home_mcc in MARKET_MCCS[market]:
        return None
    return RegionViolation(market, rule, first.slot, Network(first.home_mcc, first.home_mnc))
