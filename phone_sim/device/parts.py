"""What the phone's concerns may use of one another, declared once for the type checker.

:class:`phone_sim.device.phone.Phone` is one class put together from mixins, one concern a
module (``tray.py``, ``activation.py``, ``time_sync.py``, ``checkins.py``, ``recovery.py``,
``dialer.py``). Each mixin subclasses :class:`PhoneParts`, which declares the state ``Phone``
keeps and the methods another concern defines, so each module type-checks alone. At run time
it is an empty class: nothing here holds state or behaviour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import random
    from collections.abc import Callable

    from cryptography.hazmat.primitives.asymmetric import ec

    from phone_sim.protocol.messages import ActivationRequest, Verdict

    from .account import AccountState
    from .clock import DeviceClock
    from .events import ActivationAttempt, EventKind, SlotView, TimeAttempt
    from .exchange import Exchange
    from .identity import DeviceIdentity
    from .offline import PhoneWarning
    from .schedule import CheckinSchedule
    from .sims import Network, Sim
    from .state import Action, DeviceState
    from .storage import DeviceStorage, PersistedState
    from .unblock import UnblockState


class PhoneParts:
    """The phone's state and its concerns' methods, as the type checker sees them."""

    if TYPE_CHECKING:
        # --- the state Phone keeps (phone.py) ---
        identity: DeviceIdentity
        certificates: list[str]
        storage: DeviceStorage | None
        state: DeviceState
        persisted: PersistedState
        clock: DeviceClock
        schedule: CheckinSchedule
        pending: ActivationAttempt | None
        time_pending: TimeAttempt | None
        last_error: str | None
        active_call: str | None
        airplane: bool
        warning: PhoneWarning | None
        exchange_memory: int
        exchanges: list[Exchange]
        account: AccountState
        unblock: UnblockState
        request_protocol: int
        _time_wanted: str | None
        _sims: dict[int, Sim | None]
        _roaming_on: dict[int, Network | None]
        _rng: random.Random
        _device_key: Callable[[], ec.EllipticCurvePrivateKey] | None

        # --- what it reads and how it changes (phone.py) ---
        @property
        def slots(self) -> tuple[SlotView, ...]: ...
        @property
        def has_sim(self) -> bool: ...
        def slot(self, slot: int) -> SlotView: ...
        def _require(self, action: Action) -> None: ...
        def _enter(self, state: DeviceState) -> None: ...
        def _emit(self, kind: EventKind, detail: str) -> None: ...
        def _save(self, state: PersistedState) -> None: ...

        # --- one concern's methods that another calls ---
        def _new_nonce(self) -> str: ...
        def build_request(self, nonce: str) -> ActivationRequest: ...
        def _remember(self, exchange: Exchange) -> None: ...
        def _want_checkin(self, reason: str) -> None: ...
        def _set_warning(self, warning: PhoneWarning | None) -> None: ...
        def tick(self) -> None: ...
        def retry(self) -> None: ...
        def _took_verdict(self, verdict: Verdict, attempt: ActivationAttempt) -> None: ...
        def _version_refused(self, attempt: ActivationAttempt, exchange: Exchange) -> None: ...
