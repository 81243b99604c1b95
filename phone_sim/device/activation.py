"""Asking the vendor: activation and check-in requests, and judging the verdicts that answer.

A mixin of :class:`phone_sim.device.phone.Phone`, kept apart by concern: ``begin_activation``
builds the request (with a fresh nonce), the driver sends it with the vendor client, and
``complete_activation`` acts on the answer only if it is for this phone, answers the request in
flight, is newer than anything accepted before and has not expired (``verdicts.py``). A
refusal changes nothing but the error shown and the check-in schedule's failure count. A custom
ROM, which has no vendor client, ends setup without asking (``finish_setup_without_vendor``).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import replace
from typing import TYPE_CHECKING

from phone_sim.protocol.contact import ContactKind
from phone_sim.protocol.errors import VerdictRejected
from phone_sim.protocol.versions import VerdictStatus

from .errors import TransitionRefused
from .events import ActivationAttempt, EventKind, VerdictOutcome
from .lock_notices import from_verdict
from .parts import PhoneParts
from .state import Action, Activation, DeviceState
from .storage import StoredVerdict
from .verdicts import verdict_problem

if TYPE_CHECKING:
    from phone_sim.protocol.messages import ActivationRequest

    from .exchange import Exchange

#: the reason a custom ROM's phone gives itself for being activated
CUSTOM_ROM_REASON = "CUSTOM_ROM"


class ActivationMixin(PhoneParts):
    """Requests to the vendor and its verdicts; see the module docstring."""

    def _new_nonce(self) -> str:
        # Never from the seeded generator: a nonce must be fresh for every request the vendor
        # ever sees (PROTOCOL.md section 4), and two runs of one seeded scenario against one
        # server would otherwise send the same nonces (issue #19).
        return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()

    def build_request(self, nonce: str) -> ActivationRequest:
        # The wire models (pydantic) load with the first request, not with the phone: a first
        # frame sends none (docs/decisions/tui-first-frame-imports.md).
        from .reports import activation_request

        return activation_request(
            self.identity, self.slots, self.certificates, nonce, protocol=self.request_protocol
        )

    def begin_activation(self) -> ActivationAttempt:
        """Start asking the vendor. From setup this is activation; once decided, a re-check."""
        self._require(Action.REQUEST_ACTIVATION)
        if self.identity.custom_rom:
            raise TransitionRefused(
                Action.REQUEST_ACTIVATION,
                self.state,
                "a custom ROM has no vendor activation client",
            )
        kind = ContactKind.ACTIVATION if self.state is DeviceState.SETUP else ContactKind.CHECKIN
        nonce = self._new_nonce()
        attempt = ActivationAttempt(kind, nonce, self.build_request(nonce), self.clock.now())
        self.pending = attempt
        self.last_error = None
        if self.state is DeviceState.SETUP:
            self._enter(DeviceState.ACTIVATING)
        self._emit(EventKind.ACTIVATION, f"{kind} request sent")
        return attempt

    def complete_activation(self, attempt: ActivationAttempt, exchange: Exchange) -> VerdictOutcome:
        """Judge the vendor's answer to ``attempt`` and act on it only if every check passes."""
        self._remember(exchange)
        if self.pending is None or attempt is not self.pending:
            return self._refuse("answer to a request this phone is no longer waiting for")
        self.pending = None
        verdict = exchange.verdict
        if verdict is None:
            if exchange.server_code == "signature_stale":
                # The vendor's clock and the phone's disagree (time moved elsewhere): ask its
                # signed time before asking again.
                self._time_wanted = "the vendor called the request stale"
            self._version_refused(attempt, exchange)
            return self._refuse(
                exchange.error or "no answer", code=exchange.error_code, attempt=attempt
            )
        problem = verdict_problem(
            verdict, self.identity, attempt.nonce, self.persisted, self.clock.now()
        )
        if problem is not None:
            return self._refuse(
                f"verdict rejected: {problem}", code=VerdictRejected.code, attempt=attempt
            )
        locked = verdict.status is VerdictStatus.LOCKED
        # Version 2: the account lock keeps a phone in setup, at "This device is locked".
        held_in_setup = (
            verdict.account is not None
            and verdict.account.locked
            and self.state in (DeviceState.SETUP, DeviceState.ACTIVATING)
        )
        if held_in_setup:
            activation = Activation.NONE
        else:
            activation = Activation.LOCKED if locked else Activation.ACTIVATED
        stored = StoredVerdict(
            exchange.status or 0, dict(exchange.response_headers), exchange.response_body.decode()
        )
        # A verified verdict says the vendor's time had reached its issue time: a clock behind
        # it catches up (a verdict may come late, so it never sets one back).
        self.clock.set(verdict.issued_at, forward_only=True)
        self._save(
            replace(
                self.persisted.with_nonce(verdict.nonce),
                activation=activation,
                last_sequence=verdict.sequence,
                reason=verdict.reason,
                message=verdict.message,
                last_verdict=stored,
                verdict_at=self.clock.now(),
                verdict_expires_at=verdict.expires_at,
                offline_lock_after=verdict.offline_lock_after,
                offline_warning_before=verdict.offline_warning_before,
                time_floor=self.clock.floor,
                **from_verdict(verdict, self.persisted),
            )
        )
        self._took_verdict(verdict, attempt)
        self.schedule.succeeded(self.clock.now(), verdict.next_checkin_after)
        released = self.state is DeviceState.LOCKED and not locked
        if held_in_setup:
            self._enter(DeviceState.SETUP)
        elif self.state in (DeviceState.ACTIVATING, DeviceState.ACTIVATED, DeviceState.LOCKED):
            self._enter(DeviceState.LOCKED if locked else DeviceState.ACTIVATED)
        # The warning is decided afresh from this verdict: none once locked; an activated
        # phone's from its rules now, so a notice that still stands is not put up a second time.
        if self.state is DeviceState.ACTIVATED:
            self.tick()
        else:
            self._set_warning(None)
        self._emit(EventKind.VERDICT, f"{verdict.status.value} ({verdict.reason})")
        if released:
            self._emit(EventKind.NOTICE, verdict.message or "This device has been unlocked.")
        return VerdictOutcome(True, f"{verdict.status.value}: {verdict.reason}", verdict)

    def _refuse(
        self, why: str, *, code: str | None = None, attempt: ActivationAttempt | None = None
    ) -> VerdictOutcome:
        account = attempt is not None and attempt.kind is ContactKind.ACCOUNT
        self.last_error = f"{'Mi Account' if account else 'Activation server error'}: {why}"
        # A refused password is no failed check-in: the vendor answered.
        if self.state in (DeviceState.ACTIVATED, DeviceState.LOCKED) and not account:
            self.schedule.failed(self.clock.now(), why)
        if self.state is DeviceState.ACTIVATING:
            self._enter(DeviceState.SETUP)
        self._emit(EventKind.ERROR, self.last_error + (f" [{code}]" if code else ""))
        return VerdictOutcome(False, why)

    def _remember(self, exchange: Exchange) -> None:
        if self.exchange_memory:
            self.exchanges = [*self.exchanges, exchange][-self.exchange_memory :]

    def finish_setup_without_vendor(self) -> None:
        """A custom ROM ends setup without asking anyone: there is no vendor client to ask."""
        self._require(Action.FINISH_SETUP)
        if not self.identity.custom_rom:
            raise TransitionRefused(
                Action.FINISH_SETUP, self.state, "stock firmware must be activated"
            )
        self._save(
            replace(
                self.persisted,
                activation=Activation.ACTIVATED,
                reason=CUSTOM_ROM_REASON,
                message="Custom ROM: no vendor activation",
            )
        )
        self._enter(DeviceState.ACTIVATED)
