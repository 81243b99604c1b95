"""The phone: a state machine driven by user actions, SIM changes and vendor verdicts.

Pure Python and synchronous. Drivers (the TUI, scenarios, tests) call its methods; network
round trips happen outside it: ``begin_activation`` builds the request, the driver sends it
with the vendor client, ``complete_activation`` judges the answer. Nothing here trusts the
network: a verdict changes state only if it is for this phone, answers the request in flight,
is newer than anything accepted before and has not expired. The phone's clock is set the same
way, only from the vendor's signed time (``begin_time_sync`` / ``complete_time_sync``; see
:mod:`phone_sim.device.clock`).
"""

from __future__ import annotations

import base64
import random
import secrets
from collections.abc import Callable
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric import ec

from phone_sim.protocol.clock import Clock
from phone_sim.protocol.contact import ContactKind
from phone_sim.protocol.errors import VerdictRejected
from phone_sim.protocol.messages import PROTOCOL_V2, ActivationRequest, VerdictStatus

from .account import AccountState
from .clock import DeviceClock
from .errors import TransitionRefused
from .events import (
    ActivationAttempt,
    CallResult,
    EventKind,
    PhoneEvent,
    SlotView,
    TimeAttempt,
    VerdictOutcome,
)
from .exchange import Exchange
from .identity import DeviceIdentity
from .lock_notices import contact_text, first_warning, from_verdict, vendor_warning
from .offline import OFFLINE_REASON, PhoneWarning, offline_step
from .recovery import RecoveryMixin
from .reports import activation_request
from .schedule import CheckinSchedule
from .sims import Network, Sim
from .state import ALLOWED, RADIO_ON, Action, Activation, DeviceState
from .storage import DeviceStorage, PersistedState, StoredVerdict
from .tray import SLOTS, SimTrayMixin
from .unblock import UnblockState
from .verdicts import verdict_problem

__all__ = [
    "ActivationAttempt",
    "CallResult",
    "Phone",
    "PhoneEvent",
    "SlotView",
    "TimeAttempt",
    "VerdictOutcome",
]

EMERGENCY_ALWAYS = frozenset({"112", "911"})
EMERGENCY_WITHOUT_SIM = frozenset({"000", "08", "110", "118", "119", "999"})
#: how many exchanges the inspector keeps
EXCHANGE_MEMORY = 200
CUSTOM_ROM_REASON = "CUSTOM_ROM"

#: the nonces and schedules of phones given no generator: one for the process, since a
#: SystemRandom draws from the OS and keeps nothing, yet each instance carries a Mersenne Twister
#: state it never uses (2.5 KiB; 100,000 phones: 250 MB; docs/decisions/fleet-of-100000.md)
_SYSTEM_RANDOM = random.SystemRandom()


class Phone(SimTrayMixin, RecoveryMixin):
    def __init__(
        self,
        identity: DeviceIdentity,
        certificates: list[str],
        *,
        clock: Clock,
        storage: DeviceStorage | None = None,
        rng: random.Random | None = None,
        exchange_memory: int = EXCHANGE_MEMORY,
        device_key: Callable[[], ec.EllipticCurvePrivateKey] | None = None,
    ) -> None:
        self.identity = identity
        self.certificates = list(certificates)
        self.storage = storage
        self._rng = rng or _SYSTEM_RANDOM
        #: the device key, from the phone's keystore (version 2: its secret with the vendor)
        self._device_key = device_key
        self.persisted = storage.load_state() if storage is not None else PersistedState()
        #: version 2 (``recovery.py``): the account, and the unblock code's challenge and counts
        self.account = storage.load_account() if storage is not None else AccountState()
        self.unblock = storage.load_unblock() if storage is not None else UnblockState()
        #: the phone's clock; a plain clock given here is the world's own (same process)
        self.clock = (
            clock
            if isinstance(clock, DeviceClock)
            else DeviceClock(clock, shared=True, floor=self.persisted.time_floor or 0.0)
        )
        #: how many exchanges the inspector keeps (a fleet keeps none)
        self.exchange_memory = exchange_memory
        self.time_pending: TimeAttempt | None = None
        #: why the phone should ask the vendor's time now (None: it need not)
        self._time_wanted: str | None = None if self.clock.shared else "boot"
        self.state = DeviceState.OFF
        self._sims: dict[int, Sim | None] = dict.fromkeys(SLOTS)
        self._roaming_on: dict[int, Network | None] = dict.fromkeys(SLOTS)
        if storage is not None:  # the SIMs stay in the tray while the phone is off
            for slot, contents in storage.load_tray(SLOTS).items():
                if contents is not None:
                    self._sims[slot], self._roaming_on[slot] = contents.sim, contents.roaming_on
        self.airplane = False
        self.pending: ActivationAttempt | None = None
        self.last_error: str | None = None
        self.active_call: str | None = None
        self.exchanges: list[Exchange] = []
        self._listeners: list[Callable[[PhoneEvent], None]] = []
        # The schedule's jitter has its own generator so a seeded phone stays reproducible.
        self.schedule = CheckinSchedule(rng=random.Random(self._rng.getrandbits(64)))  # noqa: S311
        #: the standing warning the phone shows (offline lock ahead, activation unconfirmed)
        self.warning: PhoneWarning | None = None

    @classmethod
    def load(
        cls, storage: DeviceStorage, *, clock: Clock, rng: random.Random | None = None
    ) -> Phone:
        return cls(
            storage.load_identity(),
            storage.load_chain(),
            clock=clock,
            storage=storage,
            rng=rng,
            device_key=storage.load_key,
        )

    @property
    def next_checkin_at(self) -> float | None:
        """When the next scheduled (or retried) check-in falls due, on the phone's clock."""
        return self.schedule.next_at

    # --- observation -------------------------------------------------------------------

    def subscribe(self, listener: Callable[[PhoneEvent], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, kind: EventKind, detail: str) -> None:
        event = PhoneEvent(kind, detail)
        for listener in list(self._listeners):
            listener(event)

    @property
    def activation(self) -> Activation:
        return self.persisted.activation

    @property
    def lock_message(self) -> str:
        return self.persisted.message

    @property
    def lock_reason(self) -> str:
        return self.persisted.reason

    @property
    def lock_contact(self) -> str:
        """The vendor's contact details for the lock screen (``""``: none given)."""
        return contact_text(self.persisted)

    def slot(self, slot: int) -> SlotView:
        self._check_slot(slot)
        sim = self._sims[slot]
        serving: Network | None = None
        if sim is not None and self.state in RADIO_ON and not self.airplane:
            serving = self._roaming_on[slot] or sim.home
        return SlotView(slot, sim, serving)

    @property
    def slots(self) -> tuple[SlotView, ...]:
        return tuple(self.slot(s) for s in SLOTS)

    @property
    def has_sim(self) -> bool:
        return any(self._sims[s] is not None for s in SLOTS)

    # --- power -------------------------------------------------------------------------

    def _require(self, action: Action) -> None:
        if self.state not in ALLOWED[action]:
            raise TransitionRefused(action, self.state)

    def _enter(self, state: DeviceState) -> None:
        if state is not self.state:
            self.state = state
            if state is DeviceState.LOCKED:
                self._show_challenge()
            self._emit(EventKind.STATE, state.value)

    def power_on(self) -> None:
        self._require(Action.POWER_ON)
        self._enter(DeviceState.BOOTING)

    def finish_boot(self) -> None:
        """Boot completes into the remembered activation state: a locked phone boots locked."""
        self._require(Action.FINISH_BOOT)
        self._enter(
            {
                Activation.NONE: DeviceState.SETUP,
                Activation.ACTIVATED: DeviceState.ACTIVATED,
                Activation.LOCKED: DeviceState.LOCKED,
            }[self.activation]
        )
        if not self.clock.shared:
            self._time_wanted = "boot"  # a phone sets its clock from its vendor as it starts
        self.request_protocol = PROTOCOL_V2  # a reboot asks in its own version again
        self._want_checkin("reboot")

    def power_off(self) -> None:
        self._require(Action.POWER_OFF)
        # An answer that arrives after power-off belongs to a request this boot no longer knows.
        self.pending = None
        self.time_pending = None
        self.active_call = None
        self._enter(DeviceState.OFF)

    def reboot(self) -> None:
        self._require(Action.REBOOT)
        self.power_off()
        self.power_on()

    def factory_reset(self) -> None:
        """Wipe the phone's data (not its identity, not the vendor's record) and reboot into setup."""
        self._require(Action.FACTORY_RESET)
        if self.storage is not None:
            self.storage.wipe_state()
        # The clock is hardware: a reset does not let it go back past a signed time seen.
        # (kept in memory here; written with the next state the phone saves).
        self.persisted = PersistedState(time_floor=self.persisted.time_floor)
        self._reset_recovery()
        self.schedule.reset()
        self.last_error = None
        self._set_warning(None)
        self._emit(EventKind.NOTICE, "Factory reset: all data erased")
        self.reboot()

    def choose_language(self, language: str) -> None:
        self._require(Action.CHOOSE_LANGUAGE)
        self._save(replace(self.persisted, language=language))
        self._emit(EventKind.LANGUAGE, language)

    # --- activation --------------------------------------------------------------------

    def _new_nonce(self) -> str:
        # Never from the seeded generator: a nonce must be fresh for every request the vendor
        # ever sees (PROTOCOL.md section 4), and two runs of one seeded scenario against one
        # server would otherwise send the same nonces (issue #19).
        return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()

    def build_request(self, nonce: str) -> ActivationRequest:
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

    # --- the vendor's time -------------------------------------------------------------

    def time_sync_due(self) -> str | None:
        """Why the phone should ask the vendor's signed time now, or None.

        At boot when its clock is its own (its vendor is elsewhere), and whenever the vendor
        called a request stale. Never while the phone is off or a request is in flight.
        """
        if (
            self._time_wanted is None
            or self.identity.custom_rom
            or self.state not in RADIO_ON
            or self.time_pending is not None
            or self.pending is not None
        ):
            return None
        return self._time_wanted

    def want_time(self, reason: str) -> None:
        """Ask the vendor's time at the next chance (a clock of its own only: a phone reading
        the world's clock directly has nothing to set)."""
        if not self.clock.shared:
            self._time_wanted = reason

    def begin_time_sync(self) -> TimeAttempt:
        """Start asking the vendor's time: a fresh nonce the answer must carry."""
        attempt = TimeAttempt(self._new_nonce(), self.clock.now())
        self.time_pending = attempt
        return attempt

    def complete_time_sync(self, attempt: TimeAttempt, exchange: Exchange) -> VerdictOutcome:
        """Set the clock from a signed answer to ``attempt``; anything else changes nothing."""
        self._remember(exchange)
        if self.time_pending is None or attempt is not self.time_pending:
            return VerdictOutcome(False, "a time answer this phone is no longer waiting for")
        self.time_pending = None
        answer = exchange.time
        if answer is None:
            return VerdictOutcome(False, exchange.error or "no answer")
        if answer.nonce != attempt.nonce:
            return VerdictOutcome(False, "time answer for another request (nonce)")
        if not self.clock.set(answer.now, speed=answer.speed):
            return VerdictOutcome(False, "vendor time earlier than a signed time already seen")
        self._time_wanted = None
        if self.persisted.time_floor != self.clock.floor:
            self._save(replace(self.persisted, time_floor=self.clock.floor))
        if self.schedule.failures and self.state in (DeviceState.ACTIVATED, DeviceState.LOCKED):
            # A check-in refused for its time can go again at once, on the corrected clock.
            self.retry()
        self._emit(EventKind.CLOCK, f"clock set from the vendor's signed time ({answer.now})")
        return VerdictOutcome(True, f"clock set to the vendor's time ({answer.mode.value})")

    def _save(self, state: PersistedState) -> None:
        if self.storage is not None:
            self.storage.save_state(state)
        self.persisted = state

    # --- check-ins and the offline rule --------------------------------------------------

    def _want_checkin(self, reason: str) -> None:
        if (
            self.state in (DeviceState.ACTIVATED, DeviceState.LOCKED)
            and not self.identity.custom_rom
        ):
            self.schedule.force(reason)

    def checkin_due(self) -> str | None:
        """Why the phone should check in now, or None (nothing due, or one is in flight)."""
        if (
            self.identity.custom_rom
            or self.pending is not None
            or self.state not in (DeviceState.ACTIVATED, DeviceState.LOCKED)
        ):
            return None
        return self.schedule.due(self.clock.now())

    def retry(self) -> None:
        """The user asks to check again now (lock screen *Retry*)."""
        self._want_checkin("user retry")
        self.schedule.failures = 0

    def tick(self) -> None:
        """Let time pass: apply the offline and expiry rules (``offline.py``) to an activated phone."""
        if self.state is not DeviceState.ACTIVATED:
            return
        now = self.clock.now()
        step = offline_step(self.persisted, now, failing=self.schedule.failures > 0)
        if step.lock is not None:
            self._save(
                replace(
                    self.persisted,
                    activation=Activation.LOCKED,
                    reason=OFFLINE_REASON,
                    message=step.lock,
                )
            )
            self._set_warning(None)
            self._enter(DeviceState.LOCKED)
            self._want_checkin("offline lock")
            return
        if step.check_in:
            self._want_checkin("verdict expired")
        self._set_warning(first_warning(step.warning, vendor_warning(self.persisted, now)))

    def dismiss_notice(self) -> None:
        """The user dismisses the vendor's notice; the phone does not show it again."""
        self._require(Action.DISMISS_NOTICE)
        if self.warning is None or not self.warning.dismissible:
            raise TransitionRefused(Action.DISMISS_NOTICE, self.state, "no notice is shown")
        self._save(replace(self.persisted, notice_dismissed=True))
        self.tick()  # what shows instead: the phone's own warning, or nothing

    def _set_warning(self, warning: PhoneWarning | None) -> None:
        if warning != self.warning:
            self.warning = warning
            self._emit(EventKind.WARNING, "" if warning is None else warning.text)

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

    # --- calls -------------------------------------------------------------------------

    def is_emergency_number(self, number: str) -> bool:
        return number in EMERGENCY_ALWAYS or (not self.has_sim and number in EMERGENCY_WITHOUT_SIM)

    def dial(self, number: str) -> CallResult:
        """Place a call. A locked or unactivated phone still calls emergency numbers."""
        number = number.strip()
        self._require(Action.DIAL)
        if not number:
            return CallResult(False, number, "enter a number")
        if self.is_emergency_number(number):
            self.active_call = number
            self._emit(EventKind.CALL, f"emergency call {number}")
            return CallResult(True, number, f"Emergency call {number}")
        if self.state is not DeviceState.ACTIVATED:
            return CallResult(False, number, "Only emergency calls are possible")
        if not any(v.serving is not None for v in self.slots):
            return CallResult(False, number, "No network")
        self.active_call = number
        self._emit(EventKind.CALL, f"calling {number}")
        return CallResult(True, number, f"Calling {number}")

    def hang_up(self) -> None:
        if self.active_call is not None:
            self._emit(EventKind.CALL, f"call {self.active_call} ended")
        self.active_call = None
