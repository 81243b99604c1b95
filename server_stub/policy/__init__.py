"""The activation policy: declared in TOML, validated on load, matched without side effects.

``model`` holds the frozen values, ``schema`` the file's shape and rules (pydantic models),
``loader`` reads TOML into them (through ``phone_sim.tomlfile``), ``matching`` answers
"which of these SIMs is embargoed or out of region". Deciding over time (delays, holds,
releases) is :mod:`server_stub.engine.decide`'s job.
"""

from server_stub.policy.loader import (
    default_policy_text,
    load_default_policy,
    load_policy,
    parse_policy,
    read_policy_text,
)
from server_stub.policy.matching import Hit, RegionViolation, embargo_hits, region_violation
from server_stub.policy.model import (
    DualSimRule,
    Enforcement,
    MatchRule,
    Network,
    OfflineRule,
    Policy,
    Reason,
    RegionLock,
    RegionRule,
    SimData,
    Territory,
)

__all__ = [
    "DualSimRule",
    "Enforcement",
    "Hit",
    "MatchRule",
    "Network",
    "OfflineRule",
    "Policy",
    "Reason",
    "RegionLock",
    "RegionRule",
    "RegionViolation",
    "SimData",
    "Territory",
    "default_policy_text",
    "embargo_hits",
    "load_default_policy",
    "load_policy",
    "parse_policy",
    "read_policy_text",
    "region_violation",
]
