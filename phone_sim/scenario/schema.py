"""What a scenario step may say: every step kind, its arguments, and the expectations.

This table is the reference the parser checks against and ``docs/SCENARIOS.md`` documents;
keep the two in step. A check returns a problem in words, or None when the value is fine.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from phone_sim.device.errors import UnknownCatalogueEntry
from phone_sim.device.screens import SCREENS
from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import DeviceState
from phone_sim.faults import FaultMode
from server_stub.admin.models import DEVICE_STATES

Check = Callable[[Any], str | None]

REASON_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,63}")
DURATIONS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
IDENTS = ("serial", "imei", "imei2")
#: an operator's reason, as the admin API takes it
MAX_REASON = 200
MAX_MESSAGE = 1000


def _catalogue_carrier(value: Any) -> str | None:
    try:
        carrier(value)
    except UnknownCatalogueEntry as exc:
        return str(exc)
    return None


def _slot(value: Any) -> str | None:
    return None if value in (1, 2) else f"slot must be 1 or 2, got {value!r}"


def _digits(low: int, high: int, what: str) -> Check:
    def check(value: Any) -> str | None:
        if value.isdigit() and low <= len(value) <= high:
            return None
        return f"{what} must be a string of {low}-{high} digits, got {value!r}"

    return check


def _iccid(value: Any) -> str | None:
    if value.isdigit() and 19 <= len(value) <= 20 and value.startswith("89"):
        return None
    return f"iccid must be 19-20 digits starting 89, got {value!r}"


def _positive(value: Any) -> str | None:
    return None if value >= 0 else f"must not be negative, got {value!r}"


def _text(limit: int) -> Check:
    def check(value: Any) -> str | None:
        if not value.strip():
            return "must not be blank"
        return None if len(value) <= limit else f"is {len(value)} characters; the limit is {limit}"

    return check


@dataclass(frozen=True)
class Arg:
    """One argument: its TOML type(s), whether it is required, its choices, a value check."""

    types: tuple[type, ...]
    required: bool = False
    choices: tuple[str, ...] = ()
    check: Check | None = None

    @property
    def type_name(self) -> str:
        names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
        names[dict] = "a table"
        return " or ".join(dict.fromkeys(names[t] for t in self.types))


STRING = (str,)
NUMBER = (int, float)


def _network_rule(args: Mapping[str, Any], *, allow_home: bool) -> str | None:
    by_name = "carrier" in args
    by_code = "mcc" in args or "mnc" in args
    home = bool(args.get("home"))
    if by_code and not ("mcc" in args and "mnc" in args):
        return "give both mcc and mnc"
    if sum((by_name, by_code, home)) != 1:
        ways = "carrier, mcc and mnc" + (", or home = true" if allow_home else "")
        return f"give exactly one of: {ways}"
    if by_code:
        try:
            Sim.custom(args["mcc"], args["mnc"], iccid=args.get("iccid"))
        except UnknownCatalogueEntry as exc:
            return str(exc)
    return None


def _advance_rule(args: Mapping[str, Any]) -> str | None:
    if not any(k in args for k in DURATIONS):
        return "give the time to pass: seconds, minutes, hours and/or days"
    if sum(args.get(k, 0) * f for k, f in DURATIONS.items()) <= 0:
        return "the time to pass must be more than 0"
    return None


def _fault_rule(args: Mapping[str, Any]) -> str | None:
    if args["mode"] == "slow" and "seconds" not in args:
        return "mode 'slow' needs seconds (how long the answer is held back, real seconds)"
    if args["mode"] != "slow" and "seconds" in args:
        return f"seconds applies to mode 'slow' only, not {args['mode']!r}"
    return None


def _policy_rule(args: Mapping[str, Any]) -> str | None:
    if ("file" in args) == ("policy" in args):
        return "give exactly one of: file (a policy file) or policy (a table of overrides)"
    return None


@dataclass(frozen=True)
class Kind:
    """A step kind: its arguments, a rule across them, and a line for the reference."""

    summary: str
    args: Mapping[str, Arg]
    rule: Callable[[Mapping[str, Any]], str | None] | None = None


NETWORK_ARGS = {
    "carrier": Arg(STRING, check=_catalogue_carrier),
    "mcc": Arg(STRING, check=_digits(3, 3, "mcc")),
    "mnc": Arg(STRING, check=_digits(2, 3, "mnc")),
}
SLOT = Arg((int,), required=True, check=_slot)
REASON = Arg(STRING, required=True, check=_text(MAX_REASON))
BY = Arg(STRING, choices=IDENTS)

KINDS: dict[str, Kind] = {
    "boot": Kind("power on and boot (a locked phone boots locked)", {}),
    "power_off": Kind("power off", {}),
    "reboot": Kind("power off and boot again", {}),
    "factory_reset": Kind("wipe the phone's data and boot into setup", {}),
    "activate": Kind("finish setup: send the activation request (custom ROM: no vendor)", {}),
    "check_in": Kind("ask the vendor now (lock screen Retry)", {}),
    "insert_sim": Kind(
        "put a SIM in an empty slot",
        {
            "slot": SLOT,
            **NETWORK_ARGS,
            "iccid": Arg(STRING, check=_iccid),
            "card": Arg((int,), check=lambda v: None if v >= 1 else "card must be 1 or more"),
        },
        lambda a: _network_rule(a, allow_home=False),
    ),
    "remove_sim": Kind("take the SIM out of a slot", {"slot": SLOT}),
    "swap_sims": Kind("swap the SIMs of slots 1 and 2", {}),
    "roam": Kind(
        "camp a slot's SIM on another network (home = true: back home)",
        {"slot": SLOT, **NETWORK_ARGS, "home": Arg((bool,))},
        lambda a: _network_rule(a, allow_home=True),
    ),
    "airplane": Kind("airplane mode on or off", {"on": Arg((bool,), required=True)}),
    "advance": Kind(
        "let simulated time pass; the phone checks in on the way",
        {k: Arg(NUMBER, check=_positive) for k in DURATIONS},
        _advance_rule,
    ),
    "server_down": Kind("stop the vendor server", {}),
    "server_up": Kind("start the vendor server again (same data)", {}),
    "server_fault": Kind(
        "make the vendor's answers faulty (none turns faults off)",
        {
            "mode": Arg(STRING, required=True, choices=tuple(m.value for m in FaultMode)),
            "seconds": Arg(NUMBER, check=_positive),
        },
        _fault_rule,
    ),
    "operator_lock": Kind(
        "the operator places an investigation hold",
        {"reason": REASON, "message": Arg(STRING, check=_text(MAX_MESSAGE)), "by": BY},
    ),
    "operator_release": Kind("the operator releases the phone", {"reason": REASON, "by": BY}),
    "operator_release_all": Kind("the operator releases every device", {"reason": REASON}),
    "policy_change": Kind(
        "the operator installs a new policy",
        {"file": Arg(STRING), "policy": Arg((dict,)), "version": Arg(STRING)},
        _policy_rule,
    ),
    "expect": Kind("only check expectations", {}),
}

AUDIT_FIELDS = ("kind", "rule", "reason", "status", "actor")

EXPECTATIONS: dict[str, Arg] = {
    "screen": Arg(STRING, choices=SCREENS),
    "state": Arg(STRING, choices=tuple(s.value for s in DeviceState)),
    "verdict_reason": Arg(
        STRING,
        check=lambda v: None if REASON_CODE.fullmatch(v) else "must be a code like LOCKED_X",
    ),
    "lock_message_contains": Arg(STRING),
    "status_bar_contains": Arg(STRING),
    "last_error_contains": Arg(STRING),
    "warning": Arg((bool,)),
    "warning_contains": Arg(STRING),
    "server_state": Arg(STRING, choices=(*DEVICE_STATES, "unknown")),
    "audit": Arg((dict,)),
}
