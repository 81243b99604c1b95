"""The phone: a state machine driven by user actions, SIM changes and vendor verdicts.

This module holds the phone's state, its power and setup steps and what drivers observe; each
other concern is a mixin in a module of its own: the SIM tray (``tray.py``), requests to the
vendor and its verdicts (``activation.py``), the vendor's signed time (``time_sync.py``),
check-ins and the offline rule (``checkins.py``), the account and unblock code
(``recovery.py``), calls (``dialer.py``); ``parts.py`` declares what they use of one another.

Pure Python and synchronous. Drivers (the TUI, scenarios, tests) call its methods; network
round trips happen outside it: ``begin_activation`` builds the request, the driver sends it
with the vendor client, ``complete_activation`` judges the answer. Nothing here trusts the
network: a verdict changes state only if it is for this phone, answers the request in flight,
is newer than anything accepted before and has not expired. The phone's clock is set the same
way, only from the vendor's signed time (``begin_time_sync`` / ``complete_time_sync``; see
:mod:`phone_sim.device.clock`).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace

from cryptography.hazmat.primitives.asymmetric import ec

from phone_sim.protocol.clock import Clock
from phone_sim.protocol.versions import PROTOCOL_V2

from .account import AccountState
from .activation import ActivationMixin
from .checkins import CheckinMixin
from .clock import DeviceClock
from .dialer import DialerMixin
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
from .lock_notices import contact_text
from .offline import PhoneWarning
from .recovery import RecoveryMixin
from .schedule import CheckinSchedule
from .sims import Network, Sim
from .state import ALLOWED, RADIO_ON, Action, Activation, DeviceState
from .storage import DeviceStorage, PersistedState
from .time_sync import TimeSyncMixin
from .tray import SLOTS, SimTrayMixin
from .unblock import UnblockState

__all__ = [
    "ActivationAttempt",
    "CallResult",
    "Phone",
    "PhoneEvent",
    "SlotView",
    "TimeAttempt",
    "VerdictOutcome",
]

#: how many exchanges the inspector keeps
EXCHANGE_MEMORY = 200

#: the nonces and schedules of phones given no generator: one for the process, since a
#: SystemRandom draws from the OS and keeps nothing, yet each instance carries a Mersenne Twister
#: state it never uses (2.5 KiB; 100,000 phones: 250 MB; docs/decisions/fleet-of-100000.md)
_SYSTEM_RANDOM = random.SystemRandom()


class Phone(SimTrayMixin, RecoveryMixin, ActivationMixin, TimeSyncMixin, CheckinMixin, DialerMixin):
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
            on = action is Action.POWER_ON and self.state is not DeviceState.OFF
            raise TransitionRefused(action, self.state, "the phone is already on" if on else "")

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

    # --- storage ---------------------------------------------------------------------------

    def _save(self, state: PersistedState) -> None:
        if self.storage is not None:
            self.storage.save_state(state)
        self.persisted = state
