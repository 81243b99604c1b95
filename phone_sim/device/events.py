"""What the phone tells its drivers: events, slot views, attempts and outcomes (all immutable)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from phone_sim.protocol.account import AccountAction
from phone_sim.protocol.contact import ContactKind

from .sims import Network, Sim

if TYPE_CHECKING:
    # The wire models, which events carry as the client made them: named here, never loaded
    # here (docs/decisions/tui-first-frame-imports.md)
    from phone_sim.protocol.messages import ActivationRequest, Verdict


class EventKind(StrEnum):
    """What a :class:`PhoneEvent` is about."""

    STATE = "state"
    NOTICE = "notice"
    LANGUAGE = "language"
    SIM = "sim"
    NETWORK = "network"
    ACTIVATION = "activation"
    VERDICT = "verdict"
    ERROR = "error"
    CALL = "call"
    CLOCK = "clock"
    WARNING = "warning"
    ACCOUNT = "account"


@dataclass(frozen=True)
class PhoneEvent:
    """Something the phone did or noticed, for listeners (status bar, notices, inspector)."""

    kind: EventKind
    detail: str


@dataclass(frozen=True)
class SlotView:
    slot: int
    sim: Sim | None
    serving: Network | None

    @property
    def roaming(self) -> bool:
        return (
            self.sim is not None
            and self.serving is not None
            and self.serving.code != self.sim.home.code
        )

    @property
    def signal(self) -> int:
        """Bars out of four."""
        return 4 if self.serving is not None else 0


@dataclass(frozen=True)
class AccountIntent:
    """What an account request asks (its password is sealed in the request, nowhere else)."""

    action: AccountAction
    name: str
    find_device: bool = True


@dataclass(frozen=True)
class ActivationAttempt:
    kind: ContactKind
    nonce: str
    request: ActivationRequest
    started_at: float
    #: an account request's action (``kind`` is ``account``)
    account: AccountIntent | None = None


@dataclass(frozen=True)
class TimeAttempt:
    """A request for the vendor's signed time, in flight."""

    nonce: str
    started_at: float


@dataclass(frozen=True)
class CallResult:
    placed: bool
    number: str
    detail: str


@dataclass(frozen=True)
class VerdictOutcome:
    accepted: bool
    detail: str
    verdict: Verdict | None = None
