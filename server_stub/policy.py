"""The activation policy: which SIM networks lock a phone, declared in TOML and decided purely.

A policy names territories by their networks, either a whole MCC (``"368"``, Cuba) or one
operator as MCC-MNC (``"250-60"``, Volna in Crimea). Crimea's operators share Russia's MCC 250,
so a rule on MCC alone would lock all of Russia or miss Crimea: MCC-MNC entries exist for that.
:func:`decide` maps an :class:`ActivationRequest` to a :class:`Decision` with no I/O and no clock,
so the same request under the same policy always gets the same answer.

Issue #2 locks at activation. A later delay, holds and check-ins belong beside this module
(new policy tables, new decision inputs); they do not change how a network is matched.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from phone_sim.protocol.imei import is_valid_mcc, is_valid_mnc
from phone_sim.protocol.messages import ActivationRequest, SimReport, VerdictStatus

from .errors import PolicyError

#: Limits the wire protocol puts on the fields a policy feeds into a verdict.
MAX_VERSION_CHARS = 64
MAX_MESSAGE_CHARS = 1000
DEFAULT_ACTIVATION_MESSAGE = "Your device has been activated."


class SimData(StrEnum):
    """Which network of a SIM counts: its home operator (from the IMSI) or the one it is on."""

    HOME = "home"
    SERVING = "serving"


class DualSimRule(StrEnum):
    """How the slots of a dual-SIM phone combine."""

    ANY = "any"  # one embargoed SIM in any slot locks the phone
    ALL = "all"  # every occupied slot must be embargoed
    FIRST = "first"  # only the lowest occupied slot counts (a "first SIM" region rule)


class Reason(StrEnum):
    """Machine-readable reason codes the verdict carries."""

    ACTIVATION_OK = "ACTIVATION_OK"
    EMBARGOED_TERRITORY = "EMBARGOED_TERRITORY"


@dataclass(frozen=True)
class Network:
    """A whole country (``mnc is None``) or one operator."""

    mcc: str
    mnc: str | None = None

    @classmethod
    def parse(cls, text: str) -> Network:
        mcc, sep, mnc = text.partition("-")
        if not is_valid_mcc(mcc) or (sep and not is_valid_mnc(mnc)):
            raise ValueError(
                f"{text!r} is neither an MCC (e.g. '368') nor an MCC-MNC (e.g. '250-60')"
            )
        return cls(mcc, mnc if sep else None)

    def covers(self, other: Network) -> bool:
        return self.mcc == other.mcc and (self.mnc is None or self.mnc == other.mnc)

    def __str__(self) -> str:
        return self.mcc if self.mnc is None else f"{self.mcc}-{self.mnc}"


@dataclass(frozen=True)
class Territory:
    name: str
    networks: tuple[Network, ...]


@dataclass(frozen=True)
class MatchRule:
    sim_data: tuple[SimData, ...] = (SimData.HOME,)
    dual_sim: DualSimRule = DualSimRule.ANY


@dataclass(frozen=True)
class Policy:
    version: str
    lock_message: str
    territories: tuple[Territory, ...]
    match: MatchRule = MatchRule()
    activation_message: str = DEFAULT_ACTIVATION_MESSAGE

    def territory_of(self, network: Network) -> Territory | None:
        # Overlaps are refused at load time, so at most one territory covers a network.
        for territory in self.territories:
            if any(entry.covers(network) for entry in territory.networks):
                return territory
        return None


@dataclass(frozen=True)
class Decision:
    """What the policy decided and why: enough to explain a lock to a support agent."""

    status: VerdictStatus
    reason: Reason
    message: str
    rule: str  # "embargo:home", "embargo:serving", "no-sim" or "no-embargoed-network"
    policy_version: str
    territory: str | None = None
    network: str | None = None  # the MCC-MNC that matched, e.g. "368-01"
    slot: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": self.reason.value,
            "rule": self.rule,
            "policy_version": self.policy_version,
            "territory": self.territory,
            "network": self.network,
            "slot": self.slot,
        }


@dataclass(frozen=True)
class _Hit:
    slot: int
    data: SimData
    network: Network
    territory: Territory


def decide(policy: Policy, request: ActivationRequest) -> Decision:
    """Decide an activation from the SIMs the phone reports. Pure: no I/O, no clock."""
    sims = sorted(request.sims, key=lambda s: s.slot)
    if not sims:
        # A phone set up over Wi-Fi without a SIM activates, as users expect of any phone; there
        # is no operator to judge. (Issue #3's check-ins judge the SIM once one is inserted.)
        return _activated(policy, "no-sim")
    if policy.match.dual_sim is DualSimRule.FIRST:
        sims = sims[:1]
    hits = [_embargo_hit(policy, sim) for sim in sims]
    found = [hit for hit in hits if hit is not None]
    locked = bool(found) and (
        policy.match.dual_sim is not DualSimRule.ALL or len(found) == len(hits)
    )
    if not locked:
        return _activated(policy, "no-embargoed-network")
    first = found[0]
    return Decision(
        status=VerdictStatus.LOCKED,
        reason=Reason.EMBARGOED_TERRITORY,
        message=policy.lock_message,
        rule=f"embargo:{first.data.value}",
        policy_version=policy.version,
        territory=first.territory.name,
        network=str(first.network),
        slot=first.slot,
    )


def _embargo_hit(policy: Policy, sim: SimReport) -> _Hit | None:
    for data in policy.match.sim_data:
        if data is SimData.HOME:
            network = Network(sim.home_mcc, sim.home_mnc)
        elif sim.serving_mcc is not None and sim.serving_mnc is not None:
            network = Network(sim.serving_mcc, sim.serving_mnc)
        else:
            continue  # not camped on any network: nothing to judge
        territory = policy.territory_of(network)
        if territory is not None:
            return _Hit(sim.slot, data, network, territory)
    return None


def _activated(policy: Policy, rule: str) -> Decision:
    return Decision(
        status=VerdictStatus.ACTIVATED,
        reason=Reason.ACTIVATION_OK,
        message=policy.activation_message,
        rule=rule,
        policy_version=policy.version,
    )


# --- loading -------------------------------------------------------------------------------


def load_default_policy() -> Policy:
    """The policy packaged with the server (``server_stub/policies/default.toml``)."""
    resource = resources.files("server_stub.policies") / "default.toml"
    return parse_policy(resource.read_text(encoding="utf-8"), source="default.toml")


def load_policy(path: Path | None = None) -> Policy:
    """Load ``path``, or the packaged default policy when ``path`` is None."""
    if path is None:
        return load_default_policy()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read policy: {exc}") from exc
    return parse_policy(text, source=str(path))


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{source}: not valid TOML: {exc}") from exc
    try:
        return _policy(data)
    except _Invalid as exc:
        raise PolicyError(f"{source}: {exc.field}: {exc.problem}") from None


class _Invalid(Exception):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


def _closed(data: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in data:
        if key not in allowed:
            raise _Invalid(
                f"{where}{key}", f"unknown field (expected one of {', '.join(sorted(allowed))})"
            )


def _text(
    data: Mapping[str, Any], key: str, where: str, *, limit: int, default: str | None = None
) -> str:
    field = f"{where}{key}"
    if key not in data:
        if default is None:
            raise _Invalid(field, "is required")
        return default
    value = data[key]
    if not isinstance(value, str):
        raise _Invalid(field, f"must be a string, not {type(value).__name__}")
    if not value.strip():
        raise _Invalid(field, "must not be empty")
    if len(value) > limit:
        raise _Invalid(field, f"is {len(value)} characters; the limit is {limit}")
    return value


def _policy(data: dict[str, Any]) -> Policy:
    _closed(data, {"version", "lock_message", "activation_message", "match", "territories"}, "")
    match = data.get("match", {})
    if not isinstance(match, dict):
        raise _Invalid("match", "must be a table")
    territories = data.get("territories")
    if not isinstance(territories, list) or not territories:
        raise _Invalid("territories", "must be a non-empty array of tables ([[territories]])")
    return Policy(
        version=_text(data, "version", "", limit=MAX_VERSION_CHARS),
        lock_message=_text(data, "lock_message", "", limit=MAX_MESSAGE_CHARS),
        activation_message=_text(
            data,
            "activation_message",
            "",
            limit=MAX_MESSAGE_CHARS,
            default=DEFAULT_ACTIVATION_MESSAGE,
        ),
        match=_match(match),
        territories=_territories(territories),
    )


def _match(data: dict[str, Any]) -> MatchRule:
    _closed(data, {"sim_data", "dual_sim"}, "match.")
    raw = data.get("sim_data", [SimData.HOME.value])
    choices = ", ".join(repr(s.value) for s in SimData)
    if not isinstance(raw, list) or not raw or not all(isinstance(s, str) for s in raw):
        raise _Invalid("match.sim_data", f"must be a non-empty list of {choices}")
    if len(set(raw)) != len(raw) or not set(raw) <= {s.value for s in SimData}:
        raise _Invalid("match.sim_data", f"must list each of {choices} at most once, got {raw!r}")
    rule = data.get("dual_sim", DualSimRule.ANY.value)
    if rule not in {r.value for r in DualSimRule}:
        options = ", ".join(repr(r.value) for r in DualSimRule)
        raise _Invalid("match.dual_sim", f"must be one of {options}, got {rule!r}")
    return MatchRule(sim_data=tuple(SimData(s) for s in raw), dual_sim=DualSimRule(rule))


def _territories(items: list[Any]) -> tuple[Territory, ...]:
    result: list[Territory] = []
    seen: dict[Network, str] = {}  # every network so far -> the territory naming it
    for i, item in enumerate(items):
        where = f"territories[{i}]."
        if not isinstance(item, dict):
            raise _Invalid(f"territories[{i}]", "must be a table")
        _closed(item, {"name", "networks"}, where)
        name = _text(item, "name", where, limit=64)
        if any(t.name == name for t in result):
            raise _Invalid(f"{where}name", f"territory {name!r} is declared twice")
        raw = item.get("networks")
        if not isinstance(raw, list) or not raw:
            raise _Invalid(f"{where}networks", "must be a non-empty list of MCC or MCC-MNC strings")
        networks: list[Network] = []
        for j, text in enumerate(raw):
            field = f"{where}networks[{j}]"
            if not isinstance(text, str):
                raise _Invalid(field, f"must be a string, not {type(text).__name__}")
            try:
                network = Network.parse(text)
            except ValueError as exc:
                raise _Invalid(field, str(exc)) from None
            # Overlaps would make the territory of a SIM ambiguous ("250" and "250-60").
            for other, owner in seen.items():
                if other.covers(network) or network.covers(other):
                    raise _Invalid(
                        field, f"{text!r} overlaps {str(other)!r} of territory {owner!r}"
                    )
            seen[network] = name
            networks.append(network)
        result.append(Territory(name, tuple(networks)))
    return tuple(result)
