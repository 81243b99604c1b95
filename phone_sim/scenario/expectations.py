"""What a scenario (or a test) can check about the phone and the vendor, as ``(ok, detail)``.

Each check reads the device model or the vendor's admin API and never changes either, so
checks may be repeated or reordered freely. Failures say what was found instead.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from phone_sim.device.phone import Phone
from phone_sim.device.screens import screen_for
from phone_sim.device.state import DeviceState
from phone_sim.device.status import status_text
from server_stub.admin.client import AdminClient, AdminClientError, AdminHttpError

from .errors import DriverError, ExpectationFailed

#: ``server_state`` of a device the vendor has no record of (a custom ROM never asked)
UNKNOWN_TO_VENDOR = "unknown"
_PORT = re.compile(r"((?:127\.0\.0\.1|localhost|\[::1\]):)\d+|(port=)\d+")


def mask_ports(text: str) -> str:
    """``text`` without ephemeral port numbers, so that output is the same from run to run."""
    return _PORT.sub(lambda m: (m.group(1) or m.group(2)) + "…", text)


class Check(NamedTuple):
    ok: bool
    detail: str


class Expectations:
    """The checks, for a driver that has a phone, its serial and (maybe) the admin API."""

    phone: Phone

    @property
    def serial(self) -> str:
        return self.phone.identity.serial

    @property
    def imeis(self) -> tuple[str, ...]:
        return self.phone.identity.imeis

    @property
    def admin(self) -> AdminClient:
        raise NotImplementedError  # the driver's: expectations only read through it

    @property
    def screen(self) -> str:
        """The screen the TUI shows now: ``off``, ``boot``, ``setup``, ``home`` or ``lock``."""
        return screen_for(self.phone.state)

    def _where(self) -> str:
        reason = f", reason {self.phone.lock_reason}" if self.phone.lock_reason else ""
        return f"state {self.phone.state.value}{reason}"

    def expect_state(self, state: DeviceState | str) -> Check:
        want = DeviceState(state)
        got = self.phone.state
        return Check(
            got is want, f"state is {got.value}" + ("" if got is want else f" ({self._where()})")
        )

    def expect_screen(self, screen: str) -> Check:
        got = self.screen
        return Check(
            got == screen, f"screen is {got}" + ("" if got == screen else f" ({self._where()})")
        )

    def expect_verdict_reason(self, reason: str) -> Check:
        got = self.phone.lock_reason or "(none yet)"
        return Check(got == reason, f"verdict reason is {got}")

    def expect_lock_message_contains(self, text: str) -> Check:
        got = self.phone.lock_message
        return _contains("lock message", got, text)

    def expect_status_bar_contains(self, text: str) -> Check:
        return _contains("status bar", status_text(self.phone), text)

    def expect_last_error_contains(self, text: str) -> Check:
        return _contains("last error", mask_ports(self.phone.last_error or ""), text)

    def expect_server_state(self, state: str) -> Check:
        try:
            got: str = self.admin.device(self.serial).state
        except AdminHttpError as exc:
            if exc.code != "device_not_found":
                return Check(False, f"the vendor cannot say: {mask_ports(str(exc))}")
            got = UNKNOWN_TO_VENDOR
        except AdminClientError as exc:
            return Check(False, f"the vendor cannot say: {mask_ports(str(exc))}")
        return Check(got == state, f"the vendor shows the device {got}")

    def expect_audit(
        self,
        *,
        kind: str | None = None,
        rule: str | None = None,
        reason: str | None = None,
        status: str | None = None,
        actor: str | None = None,
    ) -> Check:
        """An audit entry with every field given exists, for this device or server-wide.

        Server-wide entries (a policy change, a bulk release's summary) name no device but
        concern every one, so they count.
        """
        want = {"kind": kind, "rule": rule, "reason": reason, "status": status, "actor": actor}
        want = {k: v for k, v in want.items() if v is not None}
        try:
            entries = [
                e
                for e in self.admin.audit(limit=1000).entries
                if e.serial in (self.serial, None) or e.imei in self.imeis
            ]
        except AdminClientError as exc:
            return Check(False, f"the vendor cannot say: {mask_ports(str(exc))}")
        for entry in entries:
            if all(getattr(entry, k) == v for k, v in want.items()):
                return Check(True, f"audit #{entry.id} {entry.kind} {entry.rule}")
        recent = "; ".join(
            f"#{e.id} {e.kind} {e.rule} {e.status or '-'} {e.reason or '-'}" for e in entries[-3:]
        )
        return Check(False, f"no such audit entry; the last: {recent or 'none'}")

    def expect(self, key: str, value: Any) -> Check:
        """The check a scenario's ``expect.KEY = VALUE`` names."""
        if key == "audit":
            return self.expect_audit(**value)
        method = getattr(self, f"expect_{key}", None)
        if method is None:
            raise DriverError(f"no expectation called {key!r}")
        result: Check = method(value)
        return result

    def check(self, **expectations: Any) -> None:
        """Assert every expectation (``screen="lock", verdict_reason="..."``) at once.

        Raises:
            ExpectationFailed: naming each one that did not hold and what was found.
        """
        failed = []
        for key, value in expectations.items():
            ok, detail = self.expect(key, value)
            if not ok:
                failed.append(f"{key}={value!r}: {detail}")
        if failed:
            raise ExpectationFailed("; ".join(failed))


def _contains(what: str, got: str, text: str) -> Check:
    if text in got:
        return Check(True, f"{what} contains {text!r}")
    shown = got if len(got) <= 120 else got[:117] + "..."
    return Check(False, f"{what} is {shown!r}")
