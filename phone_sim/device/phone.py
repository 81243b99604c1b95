"""The phone: a state machine driven by user actions, SIM changes and vendor verdicts.

Pure Python and synchronous. Drivers (the TUI, scenarios, tests) call its methods; network
round trips happen outside it: ``begin_activation`` builds the request, the driver sends it
with the vendor client, ``complete_activation`` judges the answer. Nothing here trusts the
network: a verdict changes state only if it is for this phone, answers the request in flight,
is newer than anything accepted before and has not expired.
"""

from __future__ import annotations

import base64
import random
from collections.abc import Callable
from dataclasses import replace

from phone_sim.protocol.clock import Clock
from phone_sim.protocol.messages import (
    ActivationRequest,
    DeviceReport,
    SimReport,
    VerdictStatus,
)

from .errors import SlotError, TransitionRefused
from .events import ActivationAttempt, CallResult, PhoneEvent, SlotView, VerdictOutcome
from .exchange import Exchange
from .identity import DeviceIdentity
from .offline import OFFLINE_REASON, offline_step
from .schedule import CheckinSchedule
from .sims import Network, Sim
from .state import ALLOWED, RADIO_ON, Activation, DeviceState
from .storage import DeviceStorage, PersistedState, StoredVerdict
from .tray_file import SlotContents
from .verdicts import verdict_problem

__all__ = ["ActivationAttempt", "CallResult", "Phone", "PhoneEvent", "SlotView", "VerdictOutcome"]

SLOTS = (1, 2)
EMERGENCY_ALWAYS = frozenset({"112", "911"})
EMERGENCY_WITHOUT_SIM = frozenset({"000", "08", "110", "118", "119", "999"})
#: how many exchanges the inspector keeps
EXCHANGE_MEMORY = 200
CUSTOM_ROM_REASON = "CUSTOM_ROM"


class Phone:
    def __init__(
        self,
        identity: DeviceIdentity,
        certificates: list[str],
        *,
        clock: Clock,
        storage: DeviceStorage | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.identity = identity
        self.certificates = list(certificates)
        self.clock = clock
        self.storage = storage
        self._rng = rng or random.SystemRandom()
        self.persisted = storage.load_state() if storage is not None else PersistedState()
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
        self._offline_warned = False

    @classmethod
    def load(
        cls, storage: DeviceStorage, *, clock: Clock, rng: random.Random | None = None
    ) -> Phone:
        return cls(
            storage.load_identity(), storage.load_chain(), clock=clock, storage=storage, rng=rng
        )

    # --- observation -------------------------------------------------------------------

    def subscribe(self, listener: Callable[[PhoneEvent], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, kind: str, detail: str) -> None:
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

    def _require(self, action: str) -> None:
        if self.state not in ALLOWED[action]:
            raise TransitionRefused(action, self.state)

    def _enter(self, state: DeviceState) -> None:
        if state is not self.state:
            self.state = state
            self._emit("state", state.value)

    def power_on(self) -> None:
        self._require("power on")
        self._enter(DeviceState.BOOTING)

    def finish_boot(self) -> None:
        """Boot completes into the remembered activation state: a locked phone boots locked."""
        self._require("finish booting")
        self._enter(
            {
                Activation.NONE: DeviceState.SETUP,
                Activation.ACTIVATED: DeviceState.ACTIVATED,
                Activation.LOCKED: DeviceState.LOCKED,
            }[self.activation]
        )
        self._want_checkin("reboot")

    def power_off(self) -> None:
        self._require("power off")
        # An answer that arrives after power-off belongs to a request this boot no longer knows.
        self.pending = None
        self.active_call = None
        self._enter(DeviceState.OFF)

    def reboot(self) -> None:
        self._require("reboot")
        self.power_off()
        self.power_on()

    def factory_reset(self) -> None:
        """Wipe the phone's data (not its identity, not the vendor's record) and reboot into setup."""
        self._require("factory reset")
        if self.storage is not None:
            self.storage.wipe_state()
        self.persisted = PersistedState()
        self.schedule.reset()
        self.last_error = None
        self._offline_warned = False
        self._emit("notice", "Factory reset: all data erased")
        self.reboot()

    def choose_language(self, language: str) -> None:
        self._require("choose a language")
        self._save(replace(self.persisted, language=language))
        self._emit("language", language)

    # --- SIM tray ----------------------------------------------------------------------

    def _check_slot(self, slot: int) -> None:
        if slot not in SLOTS:
            raise SlotError(f"no SIM slot {slot}; slots are 1 and 2")

    def _save_tray(self) -> None:
        if self.storage is not None:
            self.storage.save_tray(
                {
                    s: None if sim is None else SlotContents(sim, self._roaming_on[s])
                    for s, sim in self._sims.items()
                }
            )

    def insert_sim(self, slot: int, sim: Sim) -> None:
        self._check_slot(slot)
        if self._sims[slot] is not None:
            raise SlotError(f"slot {slot} already holds {self._sims[slot].label}")  # type: ignore[union-attr]
        self._sims[slot] = sim
        self._roaming_on[slot] = None
        self._save_tray()
        self._emit("sim", f"SIM {slot}: {sim.label} inserted")
        self._want_checkin("SIM change")

    def remove_sim(self, slot: int) -> Sim:
        self._check_slot(slot)
        sim = self._sims[slot]
        if sim is None:
            raise SlotError(f"slot {slot} is empty")
        self._sims[slot] = None
        self._roaming_on[slot] = None
        self._save_tray()
        self._emit("sim", f"SIM {slot}: {sim.label} removed")
        self._want_checkin("SIM change")
        return sim

    def replace_sim(self, slot: int, sim: Sim | None) -> None:
        """Put ``sim`` in ``slot`` whatever was there (None empties it)."""
        if self.slot(slot).sim is not None:
            self.remove_sim(slot)
        if sim is not None:
            self.insert_sim(slot, sim)

    def swap_sims(self) -> None:
        self._sims[1], self._sims[2] = self._sims[2], self._sims[1]
        self._roaming_on[1], self._roaming_on[2] = self._roaming_on[2], self._roaming_on[1]
        self._save_tray()
        self._emit("sim", "SIM slots swapped")
        self._want_checkin("SIM change")

    def roam(self, slot: int, network: Network | None) -> None:
        """Camp ``slot``'s SIM on ``network`` (None: back on its home network)."""
        if self.slot(slot).sim is None:
            raise SlotError(f"slot {slot} is empty")
        self._roaming_on[slot] = network
        self._save_tray()
        where = "home network" if network is None else network.name
        self._emit("network", f"SIM {slot} on {where}")
        self._want_checkin("network change")

    def set_airplane(self, on: bool) -> None:
        was = self.airplane
        self.airplane = on
        self._emit("network", "airplane mode on" if on else "airplane mode off")
        if was and not on:
            self._want_checkin("network regained")

    # --- activation --------------------------------------------------------------------

    def _new_nonce(self) -> str:
        raw = self._rng.getrandbits(128).to_bytes(16, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    def build_request(self, nonce: str) -> ActivationRequest:
        sims = []
        for view in self.slots:
            if view.sim is None:
                continue
            sims.append(
                SimReport(
                    slot=view.slot,
                    iccid=view.sim.iccid,
                    home_mcc=view.sim.home_mcc,
                    home_mnc=view.sim.home_mnc,
                    serving_mcc=None if view.serving is None else view.serving.mcc,
                    serving_mnc=None if view.serving is None else view.serving.mnc,
                    roaming=view.roaming,
                )
            )
        ident = self.identity
        return ActivationRequest(
            device=DeviceReport(
                serial=ident.serial,
                imeis=list(ident.imeis),
                model=ident.model,
                market=ident.market,
                firmware=ident.firmware,
                bootloader_unlocked=ident.bootloader_unlocked,
            ),
            sims=sims,
            nonce=nonce,
            certificates=self.certificates,
        )

    def begin_activation(self) -> ActivationAttempt:
        """Start asking the vendor. From setup this is activation; once decided, a re-check."""
        self._require("request activation")
        if self.identity.custom_rom:
            raise TransitionRefused(
                "request activation", self.state, "a custom ROM has no vendor activation client"
            )
        kind = "activation" if self.state is DeviceState.SETUP else "checkin"
        nonce = self._new_nonce()
        attempt = ActivationAttempt(kind, nonce, self.build_request(nonce), self.clock.now())
        self.pending = attempt
        self.last_error = None
        if self.state is DeviceState.SETUP:
            self._enter(DeviceState.ACTIVATING)
        self._emit("activation", f"{kind} request sent")
        return attempt

    def complete_activation(self, attempt: ActivationAttempt, exchange: Exchange) -> VerdictOutcome:
        """Judge the vendor's answer to ``attempt`` and act on it only if every check passes."""
        self.exchanges = [*self.exchanges, exchange][-EXCHANGE_MEMORY:]
        if self.pending is None or attempt is not self.pending:
            return self._refuse("answer to a request this phone is no longer waiting for")
        self.pending = None
        verdict = exchange.verdict
        if verdict is None:
            return self._refuse(exchange.error or "no answer", code=exchange.error_code)
        problem = verdict_problem(
            verdict, self.identity, attempt.nonce, self.persisted, self.clock.now()
        )
        if problem is not None:
            return self._refuse(f"verdict rejected: {problem}", code="verdict_rejected")
        locked = verdict.status is VerdictStatus.LOCKED
        stored = StoredVerdict(
            exchange.status or 0, dict(exchange.response_headers), exchange.response_body.decode()
        )
        self._save(
            replace(
                self.persisted.with_nonce(verdict.nonce),
                activation=Activation.LOCKED if locked else Activation.ACTIVATED,
                last_sequence=verdict.sequence,
                reason=verdict.reason,
                message=verdict.message,
                last_verdict=stored,
                verdict_at=self.clock.now(),
                offline_lock_after=verdict.offline_lock_after,
                offline_warning_before=verdict.offline_warning_before,
            )
        )
        self._offline_warned = False
        self.schedule.succeeded(self.clock.now(), verdict.next_checkin_after)
        released = self.state is DeviceState.LOCKED and not locked
        if self.state in (DeviceState.ACTIVATING, DeviceState.ACTIVATED, DeviceState.LOCKED):
            self._enter(DeviceState.LOCKED if locked else DeviceState.ACTIVATED)
        self._emit("verdict", f"{verdict.status.value} ({verdict.reason})")
        if released:
            self._emit("notice", verdict.message or "This device has been unlocked.")
        return VerdictOutcome(True, f"{verdict.status.value}: {verdict.reason}", verdict)

    def _refuse(self, why: str, *, code: str | None = None) -> VerdictOutcome:
        self.last_error = f"Activation server error: {why}"
        if self.state in (DeviceState.ACTIVATED, DeviceState.LOCKED):
            self.schedule.failed(self.clock.now(), why)
        if self.state is DeviceState.ACTIVATING:
            self._enter(DeviceState.SETUP)
        self._emit("error", self.last_error + (f" [{code}]" if code else ""))
        return VerdictOutcome(False, why)

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
        """Let time pass: apply the vendor's offline rule (warn, then lock) if one is in force."""
        if self.state is not DeviceState.ACTIVATED:
            return
        step = offline_step(self.persisted, self.clock.now())
        if step is None:
            return
        if step.action == "lock":
            self._save(
                replace(
                    self.persisted,
                    activation=Activation.LOCKED,
                    reason=OFFLINE_REASON,
                    message=step.text,
                )
            )
            self._enter(DeviceState.LOCKED)
            self._want_checkin("offline lock")
        elif not self._offline_warned:
            self._offline_warned = True
            self._emit("notice", step.text)

    def finish_setup_without_vendor(self) -> None:
        """A custom ROM ends setup without asking anyone: there is no vendor client to ask."""
        self._require("finish setup")
        if not self.identity.custom_rom:
            raise TransitionRefused("finish setup", self.state, "stock firmware must be activated")
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
        self._require("dial")
        if not number:
            return CallResult(False, number, "enter a number")
        if self.is_emergency_number(number):
            self.active_call = number
            self._emit("call", f"emergency call {number}")
            return CallResult(True, number, f"Emergency call {number}")
        if self.state is not DeviceState.ACTIVATED:
            return CallResult(False, number, "Only emergency calls are possible")
        if not any(v.serving is not None for v in self.slots):
            return CallResult(False, number, "No network")
        self.active_call = number
        self._emit("call", f"calling {number}")
        return CallResult(True, number, f"Calling {number}")

    def hang_up(self) -> None:
        if self.active_call is not None:
            self._emit("call", f"call {self.active_call} ended")
        self.active_call = None
