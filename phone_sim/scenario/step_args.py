"""The arguments of each step kind, as closed, strict models with the rules across them.

Each model is the ``args`` of one entry of :data:`.steps.STEPS`; a scenario file's step is
validated as its kind's model (plus ``do`` and ``expect``). A value check raises a problem
in words; a rule across arguments (``give both mcc and mnc``) is a model validator whose
problem stands at the step's line. ``docs/SCENARIOS.md`` (section 3) documents them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, PrivateAttr, model_validator

from phone_sim.device.errors import UnknownCatalogueEntry
from phone_sim.device.sims import CARRIERS, Sim, carrier
from phone_sim.faults import FaultMode
from phone_sim.protocol.account import ACCOUNT_NAME_PATTERN, normalise_account, password_problem
from phone_sim.protocol.device_secret import is_digits, normalise_digits
from phone_sim.tomlfile import Closed, Lax, problem, unknown

DURATIONS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}
#: which of the phone's identifiers the operator names it by
Ident = Literal["serial", "imei", "imei2"]
#: an operator's reason, as the admin API takes it
MAX_REASON = 200
MAX_MESSAGE = 1000


def _catalogue_carrier(value: str) -> str:
    try:
        carrier(value)
    except UnknownCatalogueEntry:
        raise problem(unknown(value, CARRIERS, "carrier")) from None
    return value


def _slot(value: int) -> int:
    if value not in (1, 2):
        raise problem(f"slot must be 1 or 2, got {value!r}")
    return value


def _digits(low: int, high: int, what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not (value.isdigit() and low <= len(value) <= high):
            raise problem(f"{what} must be a string of {low}-{high} digits, got {value!r}")
        return value

    return check


def _iccid(value: str) -> str:
    if not (value.isdigit() and 19 <= len(value) <= 20 and value.startswith("89")):
        raise problem(f"iccid must be 19-20 digits starting 89, got {value!r}")
    return value


def _card(value: int) -> int:
    if value < 1:
        raise problem("card must be 1 or more")
    return value


def _amount(value: float) -> float:
    if not math.isfinite(value):
        raise problem(f"must be a finite number, got {value!r}")
    if value < 0:
        raise problem(f"must not be negative, got {value:g}")
    return value


def _text(limit: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not value.strip():
            raise problem("must not be blank")
        if len(value) > limit:
            raise problem(f"is {len(value)} characters; the limit is {limit}")
        return value

    return check


Slot = Annotated[int, AfterValidator(_slot)]
Carrier = Annotated[str, AfterValidator(_catalogue_carrier)]
Mcc = Annotated[str, AfterValidator(_digits(3, 3, "mcc"))]
Mnc = Annotated[str, AfterValidator(_digits(2, 3, "mnc"))]
Amount = Annotated[float, AfterValidator(_amount)]
Reason = Annotated[str, AfterValidator(_text(MAX_REASON))]


class StepArgs(Closed):
    """The arguments of a step kind; this base takes none."""


class SimArgs(StepArgs):
    """A slot and a network: a catalogue carrier, or an MCC and an MNC."""

    slot: Slot
    carrier: Carrier | None = None
    mcc: Mcc | None = None
    mnc: Mnc | None = None

    def _network_problem(
        self, *, home: bool, allow_home: bool, iccid: str | None = None
    ) -> str | None:
        by_name = self.carrier is not None
        by_code = self.mcc is not None or self.mnc is not None
        if by_code and (self.mcc is None or self.mnc is None):
            return "give both mcc and mnc"
        if sum((by_name, by_code, home)) != 1:
            ways = "carrier, mcc and mnc" + (", or home = true" if allow_home else "")
            return f"give exactly one of: {ways}"
        if self.mcc is not None and self.mnc is not None:
            try:
                Sim.custom(self.mcc, self.mnc, iccid=iccid)
            except UnknownCatalogueEntry as exc:
                return str(exc)
        return None


class InsertSimArgs(SimArgs):
    iccid: Annotated[str, AfterValidator(_iccid)] | None = None
    card: Annotated[int, AfterValidator(_card)] = 1

    @model_validator(mode="after")
    def _one_network(self) -> Self:
        found = self._network_problem(home=False, allow_home=False, iccid=self.iccid)
        if found is not None:
            raise problem(found)
        return self


class RoamArgs(SimArgs):
    home: bool = False

    @model_validator(mode="after")
    def _one_network(self) -> Self:
        found = self._network_problem(home=self.home, allow_home=True)
        if found is not None:
            raise problem(found)
        return self


class SlotArgs(StepArgs):
    slot: Slot


class AirplaneArgs(StepArgs):
    on: bool


class AdvanceArgs(StepArgs):
    seconds: Amount = 0
    minutes: Amount = 0
    hours: Amount = 0
    days: Amount = 0

    @model_validator(mode="after")
    def _some_time(self) -> Self:
        if not self.model_fields_set & DURATIONS.keys():
            raise problem("give the time to pass: seconds, minutes, hours and/or days")
        if self.total() <= 0:
            raise problem("the time to pass must be more than 0")
        return self

    def total(self) -> float:
        return self.seconds + self.minutes * 60 + self.hours * 3600 + self.days * 86400


class FaultArgs(StepArgs):
    mode: Lax[FaultMode]
    seconds: Amount | None = None

    @model_validator(mode="after")
    def _seconds_for_slow(self) -> Self:
        if self.mode is FaultMode.SLOW and self.seconds is None:
            raise problem(
                "mode 'slow' needs seconds (how long the answer is held back, real seconds)"
            )
        if self.mode is not FaultMode.SLOW and self.seconds is not None:
            raise problem(f"seconds applies to mode 'slow' only, not {self.mode.value!r}")
        return self


class OperatorLockArgs(StepArgs):
    reason: Reason
    message: Annotated[str, AfterValidator(_text(MAX_MESSAGE))] | None = None
    by: Ident = "serial"


class OperatorReleaseArgs(StepArgs):
    reason: Reason
    by: Ident = "serial"


class ReleaseAllArgs(StepArgs):
    reason: Reason


class PolicyChangeArgs(StepArgs):
    """A whole policy ``file`` or ``policy`` overrides; the parser resolves either to its text.

    The resolved text and version are not arguments (a file cannot set them): the parser puts
    them in with :meth:`resolve` once it has merged and validated the policy.
    """

    file: str | None = None
    policy: dict[str, Any] | None = None
    version: str | None = None
    _text: str = PrivateAttr("")
    _version: str = PrivateAttr("")

    @model_validator(mode="after")
    def _file_or_policy(self) -> Self:
        if (self.file is None) == (self.policy is None):
            raise problem(
                "give exactly one of: file (a policy file) or policy (a table of overrides)"
            )
        return self

    def resolve(self, text: str, version: str) -> None:
        self._text, self._version = text, version

    @property
    def text(self) -> str:
        """The policy to install, as validated by the server's own loader."""
        return self._text

    @property
    def resolved_version(self) -> str:
        """The version of :attr:`text`."""
        return self._version


# --- version 2: the account and the unblock code (docs/SCENARIOS.md section 3) -----------------


def _account(value: str) -> str:
    if not re.fullmatch(ACCOUNT_NAME_PATTERN, normalise_account(value)):
        raise problem(f"account must be an account name like alice@example.com, got {value!r}")
    return value


def _password(value: str) -> str:
    found = password_problem(value)
    if found is not None:
        raise problem(found)
    return value


def _eight_digits(value: str) -> str:
    if not is_digits(normalise_digits(value), 8):
        raise problem(f"must be 8 digits (spaces allowed: 1234 5678), got {value!r}")
    return value


Account = Annotated[str, AfterValidator(_account)]
Password = Annotated[str, AfterValidator(_password)]
Digits8 = Annotated[str, AfterValidator(_eight_digits)]


class SignInArgs(StepArgs):
    account: Account
    password: Password
    find_device: bool = True


class SignOutArgs(StepArgs):
    password: Password


class UnlockAccountArgs(StepArgs):
    account: Account
    password: Password


class ClearAccountArgs(StepArgs):
    reason: Reason
    by: Ident = "serial"


class UnblockCodeArgs(StepArgs):
    """The operator makes a code: for ``challenge``, or the challenge the phone shows."""

    challenge: Digits8 | None = None
    reason: Reason | None = None
    by: Ident = "serial"


class EnterCodeArgs(StepArgs):
    """The user types ``code``, or the code the operator made last."""

    code: Digits8 | None = None
