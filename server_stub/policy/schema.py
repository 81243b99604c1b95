"""The policy file's shape: closed, strict pydantic models, one per table, with every rule.

Each table is a :class:`~phone_sim.tomlfile.Closed` model (an unknown key is refused, so a typo
cannot silently fall back to a default) and each value is checked against what the wire
protocol can carry. Rules across keys (no two territories share a network, an offline lock
comes after the next check-in) are model validators. :meth:`PolicyFile.policy` gives the
engine's plain values (:mod:`.model`); :mod:`.loader` reads files into these models.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from phone_sim.tomlfile import Closed, Findings, Lax, Words, problem, problem_at
from server_stub.policy.lock_tables import LockScreenTable, LockWarningTable
from server_stub.policy.model import (
    DAY,
    DEFAULT_ACTIVATION_MESSAGE,
    DEFAULT_HOLD_MESSAGE,
    DEFAULT_REGION_LOCK_MESSAGE,
    DEFAULT_RELEASE_MESSAGE,
    HOUR,
    DualSimRule,
    Enforcement,
    MatchRule,
    Network,
    OfflineRule,
    Policy,
    RegionLock,
    RegionRule,
    SimData,
    Territory,
)

#: Limits the wire protocol puts on the fields a policy feeds into a verdict.
MAX_VERSION_CHARS = 64
MAX_MESSAGE_CHARS = 1000
MAX_NAME_CHARS = 64
#: Verdicts refuse a next_checkin_after under a minute and an offline lock under an hour.
MIN_CHECKIN_SECONDS = 60
MIN_OFFLINE_SECONDS = HOUR
MAX_DAYS = 3650


def _text(limit: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value.strip():
            raise problem("must not be empty")
        if len(value) > limit:
            raise problem(f"is {len(value)} characters; the limit is {limit}")
        return value

    return check


def _seconds(unit: int, minimum: int) -> Callable[[float], float]:
    """A number of days or hours (``unit`` seconds each) whose whole seconds are in range."""

    def check(value: float) -> float:
        if not math.isfinite(value):
            raise problem(f"must be a finite number, got {value}")
        if round(value * unit) < minimum or value > MAX_DAYS * DAY / unit:
            low, high = minimum / unit, MAX_DAYS * DAY / unit
            raise problem(f"must be between {low:g} and {high:g}, got {_number(value)}")
        return value

    return check


def _number(value: float) -> str:
    # As written: -1 for -1 (TOML ints arrive as floats here), 0.5 for 0.5.
    return str(int(value)) if value.is_integer() else repr(value)


def _required(message: str) -> Callable[[Any], Any]:
    """For a key with no default, where "is required" alone would not say enough."""

    def check(value: Any) -> Any:
        if value is None:
            raise problem(message)
        return value

    return check


def _network(text: str) -> str:
    try:
        Network.parse(text)
    except ValueError as exc:
        raise problem(str(exc)) from None
    return text


def _non_empty_list(message: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise problem(message)
        return value

    return check


def _sim_data(value: Any) -> Any:
    choices = ", ".join(repr(s.value) for s in SimData)
    if not isinstance(value, list) or not value or not all(isinstance(s, str) for s in value):
        raise problem(f"must be a non-empty list of {choices}")
    if len(set(value)) != len(value) or not set(value) <= {s.value for s in SimData}:
        raise problem(f"must list each of {choices} at most once, got {value!r}")
    return value


Version = Annotated[str, AfterValidator(_text(MAX_VERSION_CHARS))]
Message = Annotated[str, AfterValidator(_text(MAX_MESSAGE_CHARS))]
Name = Annotated[str, AfterValidator(_text(MAX_NAME_CHARS))]
Days = Annotated[float, AfterValidator(_seconds(DAY, 0))]
NetworkText = Annotated[str, AfterValidator(_network)]


class EnforcementTable(Closed):
    """``[enforcement]``: when a flag becomes a lock, and how often phones come back."""

    delay_days: Days = 3
    checkin_interval_hours: Annotated[
        float, AfterValidator(_seconds(HOUR, MIN_CHECKIN_SECONDS))
    ] = 24
    sim_swap_lifts_lock: bool = False
    activation_territory_sticks: bool = True

    def value(self) -> Enforcement:
        return Enforcement(
            delay=round(self.delay_days * DAY),
            checkin_interval=round(self.checkin_interval_hours * HOUR),
            sim_swap_lifts_lock=self.sim_swap_lifts_lock,
            activation_territory_sticks=self.activation_territory_sticks,
        )


class OfflineTable(Closed):
    """``[offline]``: the phone locks itself after this long without a valid verdict."""

    lock_after_days: Annotated[
        float,
        BeforeValidator(_required("is required (omit [offline] to turn it off)")),
        AfterValidator(_seconds(DAY, MIN_OFFLINE_SECONDS)),
    ] = Field(default=None, validate_default=True)
    warn_days_before: Days = 0

    @model_validator(mode="after")
    def _warning_comes_first(self) -> Self:
        if round(self.warn_days_before * DAY) >= round(self.lock_after_days * DAY):
            raise problem_at(("warn_days_before",), "must be less than lock_after_days")
        return self

    def value(self) -> OfflineRule:
        return OfflineRule(
            lock_after=round(self.lock_after_days * DAY),
            warn_before=round(self.warn_days_before * DAY),
        )


class MatchTable(Closed):
    """``[match]``: which network of a SIM counts, and how the slots of a dual-SIM phone combine."""

    sim_data: Annotated[list[Lax[SimData]], BeforeValidator(_sim_data)] = [SimData.HOME]
    dual_sim: Lax[DualSimRule] = DualSimRule.ANY

    def value(self) -> MatchRule:
        return MatchRule(sim_data=tuple(self.sim_data), dual_sim=self.dual_sim)


class RegionLockTable(Closed):
    """``[region_lock]``: per firmware market (those of :data:`.regions.MARKET_MCCS`), the rule."""

    toml_key_noun: ClassVar[str | None] = "market"

    CN: Lax[RegionRule] | None = None
    EU: Lax[RegionRule] | None = None
    RU: Lax[RegionRule] | None = None
    IN: Lax[RegionRule] | None = None
    ID: Lax[RegionRule] | None = None
    TW: Lax[RegionRule] | None = None
    TR: Lax[RegionRule] | None = None
    JP: Lax[RegionRule] | None = None
    KR: Lax[RegionRule] | None = None
    message: Message = DEFAULT_REGION_LOCK_MESSAGE

    def value(self) -> RegionLock:
        rules = self.model_dump(exclude={"message"}, exclude_none=True)
        return RegionLock(
            markets=tuple((market, RegionRule(rule)) for market, rule in rules.items()),
            message=self.message,
        )


class TerritoryTable(Closed):
    """One ``[[territories]]`` entry: a name and its networks (MCC or MCC-MNC)."""

    name: Name
    networks: Annotated[
        list[NetworkText],
        BeforeValidator(_non_empty_list("must be a non-empty list of MCC or MCC-MNC strings")),
    ] = Field(default=None, validate_default=True)

    def value(self) -> Territory:
        return Territory(self.name, tuple(Network.parse(text) for text in self.networks))


class PolicyFile(Closed):
    """A whole policy file."""

    version: Version
    lock_message: Message
    activation_message: Message = DEFAULT_ACTIVATION_MESSAGE
    release_message: Message = DEFAULT_RELEASE_MESSAGE
    hold_message: Message = DEFAULT_HOLD_MESSAGE
    enforcement: EnforcementTable = EnforcementTable()
    match: MatchTable = MatchTable()
    offline: OfflineTable | None = None
    region_lock: RegionLockTable | None = None
    lock_screen: LockScreenTable | None = None
    lock_warning: LockWarningTable | None = None
    territories: Annotated[
        list[TerritoryTable],
        BeforeValidator(_non_empty_list("must be a non-empty array of tables ([[territories]])")),
    ] = Field(default=None, validate_default=True)

    @field_validator("offline")
    @classmethod
    def _offline_after_the_next_checkin(
        cls, offline: OfflineTable | None, info: ValidationInfo
    ) -> OfflineTable | None:
        enforcement = info.data.get("enforcement")
        # A phone that checks in on schedule must never reach its own offline lock.
        if (
            offline is not None
            and isinstance(enforcement, EnforcementTable)
            and offline.value().lock_after <= enforcement.value().checkin_interval
        ):
            raise problem_at(
                ("lock_after_days",),
                "must be longer than enforcement.checkin_interval_hours, or phones that "
                "check in on schedule would lock themselves",
            )
        return offline

    @field_validator("territories")
    @classmethod
    def _territories_apart(cls, territories: list[TerritoryTable]) -> list[TerritoryTable]:
        found = Findings()
        names: set[str] = set()
        seen: dict[Network, str] = {}  # every network so far -> the territory naming it
        for i, territory in enumerate(territories):
            if territory.name in names:
                found.add((i, "name"), f"territory {territory.name!r} is declared twice")
            names.add(territory.name)
            for j, text in enumerate(territory.networks):
                network = Network.parse(text)
                # Overlaps would make the territory of a SIM ambiguous ("250" and "250-60").
                for other, owner in seen.items():
                    if other.covers(network) or network.covers(other):
                        found.add(
                            (i, "networks", j),
                            f"{text!r} overlaps {str(other)!r} of territory {owner!r}",
                        )
                        break
                seen[network] = territory.name
        found.raise_any()
        return territories

    def policy(self) -> Policy:
        """The engine's values (durations in whole seconds)."""
        return Policy(
            version=self.version,
            lock_message=self.lock_message,
            territories=tuple(t.value() for t in self.territories),
            match=self.match.value(),
            activation_message=self.activation_message,
            release_message=self.release_message,
            hold_message=self.hold_message,
            enforcement=self.enforcement.value(),
            offline=None if self.offline is None else self.offline.value(),
            region_lock=None if self.region_lock is None else self.region_lock.value(),
            lock_screen=None if self.lock_screen is None else self.lock_screen.value(),
            lock_warning=None if self.lock_warning is None else self.lock_warning.value(),
        )


class PolicyWords(Words):
    """Policy problems read ``field.path: reason``, unknown keys are fields, listed A to Z."""

    sort_keys = True
    key_noun = "field"
