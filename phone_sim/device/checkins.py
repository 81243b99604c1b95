"""Check-ins, the offline rule and the standing warning.

A mixin of :class:`phone_sim.device.phone.Phone`, kept apart by concern: when a decided phone
should ask its vendor again (``checkin_due``, from the ``schedule.py`` timetable and the
reasons forced on it: a reboot, a SIM change, the user's *Retry*), and what the passing of time
does to an activated phone (``tick``: the offline and expiry rules of ``offline.py``, the
vendor's warnings of ``lock_notices.py``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .errors import TransitionRefused
from .events import EventKind
from .lock_notices import first_warning, vendor_warning
from .offline import OFFLINE_REASON, PhoneWarning, offline_step
from .parts import PhoneParts
from .state import Action, Activation, DeviceState

if TYPE_CHECKING:
    pass


class CheckinMixin(PhoneParts):
    """Check-ins and the offline rule; see the module docstring."""

    @property
    def next_checkin_at(self) -> float | None:
        """When the next scheduled (or retried) check-in falls due, on the phone's clock."""
        return self.schedule.next_at

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
