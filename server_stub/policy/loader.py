"""Reading and validating policy TOML: every problem is a :class:`PolicyError` naming the field.

Tables are closed (an unknown key is refused, so a typo cannot silently fall back to a default)
and every value is checked against what the wire protocol can carry.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from server_stub.errors import PolicyError
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
from server_stub.policy.regions import MARKET_MCCS

#: Limits the wire protocol puts on the fields a policy feeds into a verdict.
MAX_VERSION_CHARS = 64
MAX_MESSAGE_CHARS = 1000
#: Verdicts refuse a next_checkin_after under a minute and an offline lock under an hour.
MIN_CHECKIN_SECONDS = 60
MIN_OFFLINE_SECONDS = HOUR
MAX_DAYS = 3650

_TOP = {
    "version",
    "lock_message",
    "activation_message",
    "release_message",
    "hold_message",
    "enforcement",
    "match",
    "offline",
    "region_lock",
    "territories",
}


def load_default_policy() -> Policy:
    """The policy packaged with the server (``server_stub/policy/packaged/default.toml``)."""
    return parse_policy(default_policy_text(), source="default.toml")


def default_policy_text() -> str:
    resource = resources.files("server_stub.policy.packaged") / "default.toml"
    return resource.read_text(encoding="utf-8")


def read_policy_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read policy: {exc}") from exc


def load_policy(path: Path | None = None) -> Policy:
    """Load ``path``, or the packaged default policy when ``path`` is None."""
    if path is None:
        return load_default_policy()
    return parse_policy(read_policy_text(path), source=str(path))


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


def _table(data: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    value = data.get(key)
    if value is not None and not isinstance(value, dict):
        raise _Invalid(key, "must be a table")
    return value


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


def _seconds(
    data: Mapping[str, Any], key: str, where: str, *, unit: int, default: float, minimum: int
) -> int:
    """A number of days or hours (``unit`` seconds each) as whole seconds, at least ``minimum``."""
    field = f"{where}{key}"
    value = data.get(key, default)
    # bool is an int in Python; `delay_days = true` is a mistake, not one day.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Invalid(field, f"must be a number, not {type(value).__name__}")
    seconds = round(value * unit)
    if seconds < minimum or value > MAX_DAYS * DAY / unit:
        raise _Invalid(
            field, f"must be between {minimum / unit:g} and {MAX_DAYS * DAY / unit:g}, got {value}"
        )
    return seconds


def _bool(data: Mapping[str, Any], key: str, where: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise _Invalid(f"{where}{key}", f"must be true or false, not {type(value).__name__}")
    return value


def _policy(data: dict[str, Any]) -> Policy:
    _closed(data, _TOP, "")
    territories = data.get("territories")
    if not isinstance(territories, list) or not territories:
        raise _Invalid("territories", "must be a non-empty array of tables ([[territories]])")
    enforcement = _enforcement(_table(data, "enforcement") or {})
    offline_table = _table(data, "offline")
    offline = None if offline_table is None else _offline(offline_table, enforcement)
    region_table = _table(data, "region_lock")

    def message(key: str, default: str) -> str:
        return _text(data, key, "", limit=MAX_MESSAGE_CHARS, default=default)

    return Policy(
        version=_text(data, "version", "", limit=MAX_VERSION_CHARS),
        lock_message=_text(data, "lock_message", "", limit=MAX_MESSAGE_CHARS),
        activation_message=message("activation_message", DEFAULT_ACTIVATION_MESSAGE),
        release_message=message("release_message", DEFAULT_RELEASE_MESSAGE),
        hold_message=message("hold_message", DEFAULT_HOLD_MESSAGE),
        match=_match(_table(data, "match") or {}),
        enforcement=enforcement,
        offline=offline,
        region_lock=None if region_table is None else _region_lock(region_table),
        territories=_territories(territories),
    )


def _enforcement(data: dict[str, Any]) -> Enforcement:
    where = "enforcement."
    allowed = {
        "delay_days",
        "checkin_interval_hours",
        "sim_swap_lifts_lock",
        "activation_territory_sticks",
    }
    _closed(data, allowed, where)
    return Enforcement(
        delay=_seconds(data, "delay_days", where, unit=DAY, default=3, minimum=0),
        checkin_interval=_seconds(
            data, "checkin_interval_hours", where, unit=HOUR, default=24, minimum=60
        ),
        sim_swap_lifts_lock=_bool(data, "sim_swap_lifts_lock", where, False),
        activation_territory_sticks=_bool(data, "activation_territory_sticks", where, True),
    )


def _offline(data: dict[str, Any], enforcement: Enforcement) -> OfflineRule:
    where = "offline."
    _closed(data, {"lock_after_days", "warn_days_before"}, where)
    if "lock_after_days" not in data:
        raise _Invalid(f"{where}lock_after_days", "is required (omit [offline] to turn it off)")
    lock_after = _seconds(
        data, "lock_after_days", where, unit=DAY, default=0, minimum=MIN_OFFLINE_SECONDS
    )
    warn_before = _seconds(data, "warn_days_before", where, unit=DAY, default=0, minimum=0)
    if warn_before >= lock_after:
        raise _Invalid(f"{where}warn_days_before", "must be less than lock_after_days")
    # A phone that checks in on schedule must never reach its own offline lock.
    if lock_after <= enforcement.checkin_interval:
        raise _Invalid(
            f"{where}lock_after_days",
            "must be longer than enforcement.checkin_interval_hours, or phones that check in "
            "on schedule would lock themselves",
        )
    return OfflineRule(lock_after=lock_after, warn_before=warn_before)


def _region_lock(data: dict[str, Any]) -> RegionLock:
    markets: list[tuple[str, RegionRule]] = []
    rules = ", ".join(repr(r.value) for r in RegionRule)
    for key, value in data.items():
        field = f"region_lock.{key}"
        if key == "message":
            continue
        if key not in MARKET_MCCS:
            known = ", ".join(sorted(MARKET_MCCS))
            raise _Invalid(
                field, f"unknown market (markets with a home region: {known}; or 'message')"
            )
        if value not in {r.value for r in RegionRule}:
            raise _Invalid(field, f"must be one of {rules}, got {value!r}")
        markets.append((key, RegionRule(value)))
    message = _text(
        data,
        "message",
        "region_lock.",
        limit=MAX_MESSAGE_CHARS,
        default=DEFAULT_REGION_LOCK_MESSAGE,
    )
    return RegionLock(markets=tuple(markets), message=message)


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
