"""What a scenario file may say: closed, strict models of the file, its device and its steps.

:class:`ScenarioFile` is the whole file. Its steps are a union told apart by ``do``, one member
per entry of :data:`.steps.STEPS` (the kind's argument model, plus ``do`` and ``expect``), so a
step is checked against exactly its kind's arguments. Policies are merged and validated as the
file is: the validation context is a :class:`~.policy_text.ScenarioPolicies`, which ``[policy]``
and each ``policy_change`` move along in file order. ``docs/SCENARIOS.md`` is the reference;
keep the two in step.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self, Union

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Discriminator,
    Field,
    PlainValidator,
    Tag,
    ValidationInfo,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core.core_schema import ValidatorFunctionWrapHandler

from phone_sim.device.catalogue import MARKETS, MODELS
from phone_sim.device.screens import ScreenName
from phone_sim.device.state import DeviceState
from phone_sim.tomlfile import Closed, Lax, Words, problem, problem_at, unknown
from phone_sim.tomlfile import Path as KeyPath
from server_stub.engine.states import DeviceStateName

from .model import DEFAULT_TIMEOUT, FIRST_PHONE
from .policy_text import ScenarioPolicies
from .step_args import PolicyChangeArgs, StepArgs
from .steps import STEPS, StepKind, StepName

AUDIT_FIELDS = ("kind", "rule", "reason", "status", "actor", "delivered")


REASON_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,63}")


def _code(value: str) -> str:
    if not REASON_CODE.fullmatch(value):
        raise problem("must be a code like LOCKED_X")
    return value


def _count(value: int) -> int:
    if value < 0:
        raise problem(f"must be 0 or more, got {value}")
    return value


class AuditTable(Closed):
    """``expect.audit``: an audit entry with all of these fields exists."""

    toml_key_noun: ClassVar[str | None] = "audit field"

    kind: str | None = None
    rule: str | None = None
    reason: str | None = None
    status: str | None = None
    actor: str | None = None
    #: the entry's verdict delivered a lock or a release (its ``detail.delivered.kind``)
    delivered: Literal["lock", "release"] | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.model_fields_set:
            raise problem(f"give at least one of: {', '.join(AUDIT_FIELDS)}")
        return self


class ExpectTable(Closed):
    """A step's ``expect``: each key names a ``PhoneDriver.expect_<key>`` check."""

    toml_key_noun: ClassVar[str | None] = "expectation"

    screen: ScreenName | None = None
    state: Lax[DeviceState] | None = None
    verdict_reason: Annotated[str, AfterValidator(_code)] | None = None
    lock_message_contains: str | None = None
    status_bar_contains: str | None = None
    last_error_contains: str | None = None
    warning: bool | None = None
    warning_contains: str | None = None
    notice_contains: str | None = None
    reminder_contains: str | None = None
    lock_contact_contains: str | None = None
    server_state: Literal[DeviceStateName, "unknown"] | None = None
    delivery: Literal["pending", "delivered", "none"] | None = None
    audit: AuditTable | None = None
    # version 2: the account lock and the unblock code
    account_locked: bool | None = None
    signed_in: str | None = None
    server_account: Literal["none", "bound", "locked"] | None = None
    unblock_attempts_left: Annotated[int, AfterValidator(_count)] | None = None


# --- steps ----------------------------------------------------------------------------------


class StepFields(StepArgs):
    """What every step has besides its kind's arguments (listed after them in errors)."""

    do: str = ""
    #: the phone the step acts on (or, for a step on the world, whose expectations it checks)
    phone: str | None = None
    expect: ExpectTable | None = None


def _resolve_policy(model: Any, info: ValidationInfo) -> Any:
    """A ``policy_change`` step's policy, merged over the one in force and validated."""
    policies = info.context
    if isinstance(policies, ScenarioPolicies) and isinstance(model, PolicyChangeArgs):
        model.resolve(*policies.change(model.file, model.policy))
    return model


def _needs_expectations(model: Any) -> Any:
    expect = getattr(model, "expect", None)
    if expect is None or not expect.model_fields_set:  # none, or `expect = {}`
        raise problem("an expect step needs at least one expectation")
    return model


#: each step model -> its registry entry
KIND_OF: dict[type[StepFields], StepKind[Any]] = {}


def _entry(kind: StepKind[Any]) -> Any:
    """The model of a step of ``kind``: its arguments, then ``do`` and ``expect``."""
    namespace: dict[str, Any] = {"__module__": __name__, "__doc__": kind.summary}
    if kind.name is StepName.POLICY_CHANGE:
        namespace["_resolve"] = model_validator(mode="after")(_resolve_policy)
    if kind.name is StepName.EXPECT:
        namespace["_needs_expectations"] = model_validator(mode="after")(_needs_expectations)
    # Bases in this order put the kind's arguments first in the model, then do and expect.
    model: type[StepFields] = type(f"{kind.name.value}_step", (StepFields, kind.args), namespace)
    KIND_OF[model] = kind
    return Annotated[model, Tag(kind.name.value)]


def kind_of(value: Any) -> str | None:
    """Which kind a step is: its ``do``, or ``expect`` for a step with only expectations."""
    if not isinstance(value, dict):
        return None
    kind = value.get("do", StepName.EXPECT.value if "expect" in value else None)
    return kind if isinstance(kind, str) else None


def _numbered(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    # Steps are read in order; a policy change's version names its step ("+step3").
    if isinstance(info.context, ScenarioPolicies):
        info.context.step += 1
    return handler(value)


if TYPE_CHECKING:
    StepEntry = StepFields
else:
    # One member per registry entry, told apart by do (built at import: no type checker sees it).
    StepEntry = Annotated[
        Union[tuple(_entry(kind) for kind in STEPS.values())],  # noqa: UP007
        Discriminator(kind_of),
        WrapValidator(_numbered),
    ]


# --- the file -------------------------------------------------------------------------------


def _description(value: Any) -> str:
    if not isinstance(value, str):
        raise problem("description must be a string", bare=True)
    return value.strip()


def _seed(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise problem("seed must be a whole number >= 0", bare=True)
    return value


def _timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < math.inf:
        raise problem("timeout must be seconds > 0", bare=True)
    return float(value)


def _start(value: Any) -> float | None:
    if isinstance(value, bool) or (isinstance(value, float) and not math.isfinite(value)):
        raise problem("start must be a date-time or Unix seconds", bare=True)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise problem(f"start: not an ISO 8601 date-time: {value!r}", bare=True) from None
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise problem(
            "start must be a date-time with its zone, e.g. 2021-09-01T12:00:00Z", bare=True
        )
    return value.timestamp()


def _steps(value: Any) -> Any:
    if not isinstance(value, list) or not value:
        raise problem("steps: give at least one step ([[steps]] with do = ...)", bare=True)
    return value


def _model(name: str) -> str:
    if name not in MODELS:
        raise problem(unknown(name, MODELS, "model"))
    return name


class DeviceTable(Closed):
    """``[device]``: the phone the factory builds."""

    model: Annotated[str, AfterValidator(_model)] = "Redmi Note 9"
    market: str = "MI"
    bootloader: Literal["locked", "unlocked"] | None = None
    custom_rom: bool = False

    @model_validator(mode="after")
    def _buildable(self) -> Self:
        markets = MODELS[self.model].markets
        if self.market not in markets:
            known = ", ".join(f"{m} ({MARKETS[m].name})" for m in markets)
            raise problem_at(("market",), f"{self.model} was not sold in {self.market!r}; {known}")
        if self.custom_rom and self.bootloader == "locked":
            raise problem_at(
                ("custom_rom",), 'device: a custom ROM needs bootloader = "unlocked"', bare=True
            )
        return self


def _phone_name(name: str) -> str:
    if not name or len(name) > 32 or not all(c.isalnum() or c in "-_" for c in name):
        raise problem("a phone's name is 1 to 32 letters, digits, - and _")
    return name


class PhoneTable(DeviceTable):
    """``[[phone]]``: one of several phones in the world, by name, and what the factory builds."""

    name: Annotated[str, AfterValidator(_phone_name)]


class ScenarioFile(Closed):
    """A whole scenario file (validated with a :class:`ScenarioPolicies` as context)."""

    description: Annotated[str, PlainValidator(_description)] = ""
    seed: Annotated[int, PlainValidator(_seed)] = 0
    start: Annotated[float | None, PlainValidator(_start)] = None
    timeout: Annotated[float, PlainValidator(_timeout)] = DEFAULT_TIMEOUT
    device: DeviceTable | None = None
    phone: list[PhoneTable] | None = None
    policy: dict[str, Any] = {}
    steps: Annotated[list[StepEntry], BeforeValidator(_steps)] = Field(
        default=None, validate_default=True
    )

    @model_validator(mode="after")
    def _phones_named(self) -> Self:
        """One phone ([device], or none: the default phone) or several ([[phone]], named); a
        step names its phone whenever there is more than one to choose from."""
        if self.device is not None and self.phone is not None:
            raise problem_at(
                ("phone",), "give [device] for one phone or [[phone]] tables, not both"
            )
        names = [p.name for p in self.phone or ()]
        for index, name in enumerate(names):
            if name in names[:index]:
                raise problem_at(("phone", index, "name"), f"two phones are called {name!r}")
        several = len(names) > 1
        for index, step in enumerate(self.steps or ()):
            kind = KIND_OF[type(step)]
            if step.phone is None:
                if several and (
                    not kind.world or step.expect is not None or kind.name is StepName.EXPECT
                ):
                    raise problem_at(
                        ("steps", index, "phone"),
                        "say which phone: phone = " + " or ".join(repr(n) for n in names),
                    )
            elif step.phone not in (names or [FIRST_PHONE]):
                raise problem_at(
                    ("steps", index, "phone"),
                    unknown(step.phone, names or [FIRST_PHONE], "phone"),
                )
        return self

    @field_validator("policy")
    @classmethod
    def _policy_in_force(cls, table: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        # Before the steps (fields are validated in order): their changes merge over it.
        if isinstance(info.context, ScenarioPolicies):
            info.context.start(table)
        return table


class ScenarioWords(Words):
    """Scenario problems keep the phrasing of the original parser (docs/SCENARIOS.md 5.3).

    Within a step, paths start at the step (``expect.screen``): the error names the step.
    """

    tag_key = "do"

    def where(self, path: KeyPath) -> str:
        if len(path) >= 2 and path[0] == "steps" and isinstance(path[1], int):
            path = path[2:]
        return super().where(path)

    def missing(self, path: KeyPath) -> str:
        return f"{self.where(path)} is required"

    def unknown_key(self, table: KeyPath, key: str, allowed: Sequence[str], noun: str) -> str:
        return self.at(table, unknown(key, allowed, noun))

    def type_name(self, value: Any) -> str:
        return "true/false" if isinstance(value, bool) else type(value).__name__

    def bad_choice(self, path: KeyPath, value: Any, choices: Sequence[str]) -> str:
        return self.at(path, unknown(str(value), choices, "value"))

    def bad_tag(self, path: KeyPath, value: Any, tag: str | None, tags: Sequence[str]) -> str:
        if not isinstance(value, dict):
            return "a step must be a table"
        if tag is None:
            return 'say what the step does: do = "boot", ... or expect'
        return unknown(tag, tags, "step kind")
