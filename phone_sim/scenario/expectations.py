"""What a scenario (or a test) can check about a phone and its vendor, as ``(ok, detail)``.

Each check reads the device model or the vendor's admin API and never changes either, so
checks may be repeated or reordered freely. Failures say what was found instead; a check the
world cannot make (no admin API) raises :class:`~.errors.NotAvailable`, and is skipped. One function
per expectation key, in :data:`EXPECTATIONS`; :func:`expect` looks the key up.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from phone_sim.device.phone import Phone
from phone_sim.device.screens import screen_for
from phone_sim.device.state import DeviceState
from phone_sim.device.status import status_text
from server_stub.admin.client import AdminClient, AdminClientError, AdminHttpError

from .errors import DriverError, NotAvailable

#: ``server_state`` of a device the vendor has no record of (a custom ROM never asked)
UNKNOWN_TO_VENDOR = "unknown"
_PORT = re.compile(r"((?:127\.0\.0\.1|localhost|\[::1\]):)\d+|(port=)\d+")


def mask_ports(text: str) -> str:
    """``text`` without ephemeral port numbers, so that output is the same from run to run."""
    return _PORT.sub(lambda m: (m.group(1) or m.group(2)) + "…", text)


class Check(NamedTuple):
    ok: bool
    detail: str


class Subject:
    """What the checks read: a phone, and (maybe) its vendor's admin API."""

    def __init__(self, phone: Phone, admin: Callable[[], AdminClient]) -> None:
        self.phone = phone
        self._admin = admin

    @property
    def admin(self) -> AdminClient:
        return self._admin()

    @property
    def serial(self) -> str:
        return self.phone.identity.serial

    @property
    def imeis(self) -> tuple[str, ...]:
        return self.phone.identity.imeis

    def where(self) -> str:
        reason = f", reason {self.phone.lock_reason}" if self.phone.lock_reason else ""
        return f"state {self.phone.state.value}{reason}"


def expect_state(s: Subject, state: DeviceState | str) -> Check:
    want = DeviceState(state)
    got = s.phone.state
    return Check(got is want, f"state is {got.value}" + ("" if got is want else f" ({s.where()})"))


def expect_screen(s: Subject, screen: str) -> Check:
    got = screen_for(s.phone.state)
    return Check(got == screen, f"screen is {got}" + ("" if got == screen else f" ({s.where()})"))


def expect_verdict_reason(s: Subject, reason: str) -> Check:
    got = s.phone.lock_reason or "(none yet)"
    return Check(got == reason, f"verdict reason is {got}")


def expect_lock_message_contains(s: Subject, text: str) -> Check:
    return _contains("lock message", s.phone.lock_message, text)


def expect_status_bar_contains(s: Subject, text: str) -> Check:
    return _contains("status bar", status_text(s.phone), text)


def expect_last_error_contains(s: Subject, text: str) -> Check:
    return _contains("last error", mask_ports(s.phone.last_error or ""), text)


def expect_warning(s: Subject, shown: bool) -> Check:
    """Whether the phone shows a standing warning (offline lock ahead, activation unconfirmed)."""
    got = s.phone.warning
    detail = "no warning" if got is None else f"warning {got.text!r}"
    return Check((got is not None) == shown, detail)


def expect_warning_contains(s: Subject, text: str) -> Check:
    got = s.phone.warning
    if got is None:
        return Check(False, "no warning is shown")
    return _contains("warning", got.text, text)


def expect_server_state(s: Subject, state: str) -> Check:
    try:
        got: str = s.admin.device(s.serial).state
    except AdminHttpError as exc:
        if exc.code == "not_found":  # no such route: the server has no admin API
            raise NotAvailable(
                f"needs the vendor's admin API, which it does not have ({exc})"
            ) from exc
        if exc.code != "device_not_found":
            return Check(False, f"the vendor cannot say: {mask_ports(str(exc))}")
        got = UNKNOWN_TO_VENDOR
    except NotAvailable:
        raise
    except (AdminClientError, DriverError) as exc:
        return Check(False, f"the vendor cannot say: {mask_ports(str(exc))}")
    return Check(got == state, f"the vendor shows the device {got}")


def expect_audit(s: Subject, want: dict[str, Any]) -> Check:
    """An audit entry with every field given exists, for this device or server-wide.

    Server-wide entries (a policy change, a bulk release's summary) name no device but
    concern every one, so they count.
    """
    want = {k: v for k, v in want.items() if v is not None}
    try:
        entries = [
            e
            for e in s.admin.audit(limit=1000).entries
            if e.serial in (s.serial, None) or e.imei in s.imeis
        ]
    except AdminHttpError as exc:
        if exc.code == "not_found":  # no such route: the server has no admin API
            raise NotAvailable(
                f"needs the vendor's admin API, which it does not have ({exc})"
            ) from exc
        return Check(False, f"the vendor cannot say: {mask_ports(str(exc))}")
    except NotAvailable:
        raise
    except (AdminClientError, DriverError) as exc:
        return Check(False, f"the vendor cannot say: {mask_ports(str(exc))}")
    for entry in entries:
        if all(getattr(entry, k) == v for k, v in want.items()):
            return Check(True, f"audit #{entry.id} {entry.kind} {entry.rule}")
    recent = "; ".join(
        f"#{e.id} {e.kind} {e.rule} {e.status or '-'} {e.reason or '-'}" for e in entries[-3:]
    )
    return Check(False, f"no such audit entry; the last: {recent or 'none'}")


#: every expectation key a scenario's ``expect.KEY = VALUE`` may name, and its check
EXPECTATIONS: dict[str, Callable[[Subject, Any], Check]] = {
    "state": expect_state,
    "screen": expect_screen,
    "verdict_reason": expect_verdict_reason,
    "lock_message_contains": expect_lock_message_contains,
    "status_bar_contains": expect_status_bar_contains,
    "last_error_contains": expect_last_error_contains,
    "warning": expect_warning,
    "warning_contains": expect_warning_contains,
    "server_state": expect_server_state,
    "audit": expect_audit,
}


def expect(subject: Subject, key: str, value: Any) -> Check:
    """The check a scenario's ``expect.KEY = VALUE`` names."""
    check = EXPECTATIONS.get(key)
    if check is None:
        raise DriverError(f"no expectation called {key!r}")
    return check(subject, value)


def _contains(what: str, got: str, text: str) -> Check:
    if text in got:
        return Check(True, f"{what} contains {text!r}")
    shown = got if len(got) <= 120 else got[:117] + "..."
    return Check(False, f"{what} is {shown!r}")
