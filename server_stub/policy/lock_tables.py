"""The policy tables of what a phone shows around a lock (protocol 2): ``[lock_screen]`` and
``[lock_warning]``, closed strict models like the rest of :mod:`.schema`.

Their limits are the wire protocol's (``phone_sim.protocol.lock_screen``: Knox Guard's 20
characters for a phone number, 60 for an e-mail address, 350 for a notice), so a policy that
passes ``vendor-server policy check`` never makes a verdict the phone would refuse.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Self

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from phone_sim.protocol.lock_screen import (
    EMAIL_PATTERN,
    MAX_CONTACT_EMAIL,
    MAX_CONTACT_PHONE,
    MAX_NOTICE_CHARS,
    PHONE_PATTERN,
)
from phone_sim.tomlfile import Closed, problem, problem_at
from server_stub.policy.model import (
    DAY,
    DEFAULT_LOCK_NOTICE,
    DEFAULT_LOCK_REMINDER,
    LockScreen,
    LockWarningRule,
)

#: the longest warning ahead of a lock, in days (as long as any delay a policy may set)
MAX_WARNING_DAYS = 3650


def _limited(limit: int, pattern: str, form: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if len(value) > limit:
            raise problem(f"is {len(value)} characters; the limit is {limit}")
        if not re.fullmatch(pattern, value):
            raise problem(f"must be {form}, got {value!r}")
        return value

    return check


def _notice(value: str) -> str:
    if not value.strip():
        raise problem("must not be empty")
    if len(value) > MAX_NOTICE_CHARS:
        raise problem(f"is {len(value)} characters; the limit is {MAX_NOTICE_CHARS}")
    return value


def _days(minimum_seconds: int) -> Callable[[float], float]:
    def check(value: float) -> float:
        if not math.isfinite(value):
            raise problem(f"must be a finite number, got {value}")
        if round(value * DAY) < minimum_seconds or value > MAX_WARNING_DAYS:
            low = minimum_seconds / DAY
            shown = int(value) if value.is_integer() else value
            raise problem(f"must be between {low:g} and {MAX_WARNING_DAYS}, got {shown}")
        return value

    return check


def _required(value: object) -> object:
    if value is None:
        raise problem("is required (omit [lock_warning] to warn nobody)")
    return value


PhoneText = Annotated[
    str,
    AfterValidator(
        _limited(
            MAX_CONTACT_PHONE, PHONE_PATTERN, "digits, spaces and + ( ) . - (e.g. +53 7 266 6666)"
        )
    ),
]
EmailText = Annotated[
    str,
    AfterValidator(
        _limited(MAX_CONTACT_EMAIL, EMAIL_PATTERN, "an e-mail address (name@example.com)")
    ),
]
Notice = Annotated[str, AfterValidator(_notice)]


class LockScreenTable(Closed):
    """``[lock_screen]``: a contact number and e-mail address for the lock screen."""

    phone: PhoneText | None = None
    email: EmailText | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.phone is None and self.email is None:
            raise problem("give phone, email or both (or omit [lock_screen])")
        return self

    def value(self) -> LockScreen:
        return LockScreen(phone=self.phone, email=self.email)


class LockWarningTable(Closed):
    """``[lock_warning]``: a dismissible notice, then a standing reminder, ahead of a delayed lock."""

    notice_days_before: Annotated[float, BeforeValidator(_required), AfterValidator(_days(60))] = (
        Field(default=None, validate_default=True)
    )
    reminder_days_before: Annotated[float, BeforeValidator(_required), AfterValidator(_days(0))] = (
        Field(default=None, validate_default=True)
    )
    notice: Notice = DEFAULT_LOCK_NOTICE
    reminder: Notice = DEFAULT_LOCK_REMINDER

    @model_validator(mode="after")
    def _notice_comes_first(self) -> Self:
        if round(self.reminder_days_before * DAY) > round(self.notice_days_before * DAY):
            raise problem_at(
                ("reminder_days_before",),
                "must not be more than notice_days_before (the notice comes first)",
            )
        return self

    def value(self) -> LockWarningRule:
        return LockWarningRule(
            notice_before=round(self.notice_days_before * DAY),
            reminder_before=round(self.reminder_days_before * DAY),
            notice=self.notice,
            reminder=self.reminder,
        )
