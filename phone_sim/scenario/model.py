"""A parsed scenario as frozen values: the device, the policy, and the ordered steps.

The parser builds these from a TOML file and has already checked every step and argument, so
the runner never meets a malformed step halfway through a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phone_sim.device.provisioning import PhoneSpec

from .step_args import StepArgs
from .steps import StepName

#: real seconds the phone waits for the vendor in a scenario (short, to keep slow faults fast)
DEFAULT_TIMEOUT = 2.0
#: the name of a scenario's phone when it has one (``[device]``): the world's first phone's
FIRST_PHONE = "phone"


#: the phone the factory builds for a scenario (one type for worlds, scenarios and tests)
DeviceSpec = PhoneSpec


@dataclass(frozen=True)
class PolicySpec:
    """The vendor policy the scenario runs under.

    ``text`` is the whole policy TOML (the packaged default with the scenario's overrides, or a
    file with overrides), already validated; None leaves the server's own policy in force.
    """

    text: str | None = None
    version: str | None = None
    source: str = "packaged default"


@dataclass(frozen=True)
class Expectation:
    """One thing to check after a step: ``key`` (screen, state, audit, ...) and its value."""

    key: str
    value: Any
    line: int


@dataclass(frozen=True)
class Step:
    """One step: an action ``kind`` with its arguments (``expect`` for a check-only step).

    ``index`` counts from 1 as the output and error messages do; ``line`` is where the step
    starts in the file. ``args`` are as written (for the output), except a ``policy_change``'s,
    whose ``text`` and ``version`` the parser resolved; ``params`` are the same arguments
    validated, as the kind's entry in :data:`.steps.STEPS` performs them.
    """

    index: int
    kind: StepName
    args: dict[str, Any]
    line: int
    expect: tuple[Expectation, ...] = ()
    params: StepArgs = field(default_factory=StepArgs)
    #: the phone it acts on (or whose expectations it checks); None: the scenario's only phone
    phone: str | None = None


@dataclass(frozen=True)
class PhoneEntry:
    """One phone of the scenario's world: its name and what the factory builds."""

    name: str
    device: DeviceSpec = field(default_factory=DeviceSpec)


@dataclass(frozen=True)
class Scenario:
    path: Path
    name: str
    description: str
    #: the phones of the world, in the file's order (one, ``phone``, for a ``[device]`` file)
    phones: tuple[PhoneEntry, ...] = (PhoneEntry(FIRST_PHONE),)
    policy: PolicySpec = field(default_factory=PolicySpec)
    seed: int = 0
    start: float | None = None
    timeout: float = DEFAULT_TIMEOUT
    steps: tuple[Step, ...] = ()

    @property
    def device(self) -> DeviceSpec:
        """The first phone's device (the only one, in a one-phone scenario)."""
        return self.phones[0].device

    def phone_of(self, step: Step) -> str:
        """The name of the phone ``step`` acts on, or whose expectations it checks."""
        return step.phone or self.phones[0].name
