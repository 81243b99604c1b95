"""Every step a scenario can take: one registry entry each, with its name, arguments and action.

An entry (:class:`StepKind`) names the step (:class:`StepName`, which the type checker knows),
gives the pydantic model its arguments are validated with (:mod:`.step_args`) and the callable
that performs it on a :class:`~phone_sim.scenario.driver.PhoneDriver`. The parser validates
steps against :data:`STEPS`, the runner performs them through it, and ``docs/SCENARIOS.md``
(section 3) documents it: adding a step is one entry here, its driver method and its row there.

The driver is only named for the type checker: this module is imported by the parser, which
must not load the driver's stack (the embedded vendor server) to read a file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .step_args import (
    AdvanceArgs,
    AirplaneArgs,
    FaultArgs,
    InsertSimArgs,
    OperatorLockArgs,
    OperatorReleaseArgs,
    PolicyChangeArgs,
    ReleaseAllArgs,
    RoamArgs,
    SlotArgs,
    StepArgs,
)

if TYPE_CHECKING:
    from .driver import PhoneDriver


class StepName(StrEnum):
    """What a step does: its ``do = "..."`` in a scenario file."""

    BOOT = "boot"
    POWER_OFF = "power_off"
    REBOOT = "reboot"
    FACTORY_RESET = "factory_reset"
    ACTIVATE = "activate"
    CHECK_IN = "check_in"
    INSERT_SIM = "insert_sim"
    REMOVE_SIM = "remove_sim"
    SWAP_SIMS = "swap_sims"
    ROAM = "roam"
    AIRPLANE = "airplane"
    ADVANCE = "advance"
    SERVER_DOWN = "server_down"
    SERVER_UP = "server_up"
    SERVER_FAULT = "server_fault"
    OPERATOR_LOCK = "operator_lock"
    OPERATOR_RELEASE = "operator_release"
    OPERATOR_RELEASE_ALL = "operator_release_all"
    POLICY_CHANGE = "policy_change"
    EXPECT = "expect"


A = TypeVar("A", bound=StepArgs)


@dataclass(frozen=True)
class StepKind(Generic[A]):
    """One step kind: its name, a line for the reference, its arguments, and its action.

    ``perform`` returns what happened, in a few words (the runner prints it), and raises
    :class:`~phone_sim.scenario.errors.DriverError` when it cannot be done.
    """

    name: StepName
    summary: str
    args: type[A]
    perform: Callable[[PhoneDriver, A], str]
    #: the step acts on the world (its time, its vendor), not on one phone; with several
    #: phones it names a phone only to say whose expectations are checked after it
    world: bool = False


def _insert_sim(driver: PhoneDriver, a: InsertSimArgs) -> str:
    return driver.insert_sim(
        a.slot, carrier=a.carrier, mcc=a.mcc, mnc=a.mnc, iccid=a.iccid, card=a.card
    )


def _roam(driver: PhoneDriver, a: RoamArgs) -> str:
    return driver.roam(a.slot, carrier=a.carrier, mcc=a.mcc, mnc=a.mnc, home=a.home)


def _advance(driver: PhoneDriver, a: AdvanceArgs) -> str:
    return driver.advance(a.seconds, minutes=a.minutes, hours=a.hours, days=a.days)


def _server_fault(driver: PhoneDriver, a: FaultArgs) -> str:
    return driver.server_fault(a.mode, 0 if a.seconds is None else a.seconds)


def _registry(*kinds: StepKind[Any]) -> dict[StepName, StepKind[Any]]:
    registry = {kind.name: kind for kind in kinds}
    missing = set(StepName) - set(registry)
    if missing or len(registry) != len(kinds):
        raise AssertionError(f"every step name needs exactly one entry; check {missing or kinds}")
    return registry


#: every step kind, in the order the reference lists them
STEPS: dict[StepName, StepKind[Any]] = _registry(
    StepKind(
        StepName.BOOT,
        "power on and boot (a locked phone boots locked)",
        StepArgs,
        lambda d, _: d.boot(),
    ),
    StepKind(StepName.POWER_OFF, "power off", StepArgs, lambda d, _: d.power_off()),
    StepKind(StepName.REBOOT, "power off and boot again", StepArgs, lambda d, _: d.reboot()),
    StepKind(
        StepName.FACTORY_RESET,
        "wipe the phone's data and boot into setup",
        StepArgs,
        lambda d, _: d.factory_reset(),
    ),
    StepKind(
        StepName.ACTIVATE,
        "finish setup: send the activation request (custom ROM: no vendor)",
        StepArgs,
        lambda d, _: d.activate(),
    ),
    StepKind(
        StepName.CHECK_IN,
        "ask the vendor now (lock screen Retry)",
        StepArgs,
        lambda d, _: d.check_in(),
    ),
    StepKind(StepName.INSERT_SIM, "put a SIM in an empty slot", InsertSimArgs, _insert_sim),
    StepKind(
        StepName.REMOVE_SIM,
        "take the SIM out of a slot",
        SlotArgs,
        lambda d, a: d.remove_sim(a.slot),
    ),
    StepKind(
        StepName.SWAP_SIMS,
        "swap the SIMs of slots 1 and 2",
        StepArgs,
        lambda d, _: d.swap_sims(),
    ),
    StepKind(
        StepName.ROAM,
        "camp a slot's SIM on another network (home = true: back home)",
        RoamArgs,
        _roam,
    ),
    StepKind(
        StepName.AIRPLANE,
        "airplane mode on or off",
        AirplaneArgs,
        lambda d, a: d.airplane(a.on),
    ),
    StepKind(
        StepName.ADVANCE,
        "let simulated time pass; the phone checks in on the way",
        AdvanceArgs,
        _advance,
        world=True,
    ),
    StepKind(
        StepName.SERVER_DOWN,
        "stop the vendor server",
        StepArgs,
        lambda d, _: d.server_down(),
        world=True,
    ),
    StepKind(
        StepName.SERVER_UP,
        "start the vendor server again (same data)",
        StepArgs,
        lambda d, _: d.server_up(),
        world=True,
    ),
    StepKind(
        StepName.SERVER_FAULT,
        "make the vendor's answers faulty (none turns faults off)",
        FaultArgs,
        _server_fault,
        world=True,
    ),
    StepKind(
        StepName.OPERATOR_LOCK,
        "the operator places an investigation hold",
        OperatorLockArgs,
        lambda d, a: d.operator_lock(a.reason, a.message, a.by),
    ),
    StepKind(
        StepName.OPERATOR_RELEASE,
        "the operator releases the phone",
        OperatorReleaseArgs,
        lambda d, a: d.operator_release(a.reason, a.by),
    ),
    StepKind(
        StepName.OPERATOR_RELEASE_ALL,
        "the operator releases every device",
        ReleaseAllArgs,
        lambda d, a: d.operator_release_all(a.reason),
        world=True,
    ),
    StepKind(
        StepName.POLICY_CHANGE,
        "the operator installs a new policy",
        PolicyChangeArgs,
        lambda d, a: d.policy_change(a.text),
        world=True,
    ),
    StepKind(StepName.EXPECT, "only check expectations", StepArgs, lambda d, _: "", world=True),
)
