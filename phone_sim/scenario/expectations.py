"""What a scenario (or a test) can check about a phone and its vendor, as ``(ok, detail)``.

Each check reads the device model or the vendor's admin API and never changes either, so
checks may be repeated or reordered freely. Failures say what was found instead; a check the
world cannot make (no admin API) raises :class:`~.errors.NotAvailable`, and is skipped. One function
per expectation key, in :data:`EXPECTATIONS`; :func:`expect` looks the key up.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from phone_sim.device.offline import WarningKind
from phone_sim.device.screens import screen_for
from phone_sim.device.state import DeviceState
from phone_sim.device.status import status_text
from server_stub.admin.client import AdminClientError, AdminHttpError
from server_stub.admin.models import AuditEntry

from .account_expectations import ACCOUNT_EXPECTATIONS
from .errors import DriverError, NotAvailable
from .subject import Check as Check  # re-exported: callers import the checks' types from here
from .subject import Subject as Subject
from .subject import mask_ports as mask_ports

#: ``server_state`` of a device the vendor has no record of (a custom ROM never asked)
UNKNOWN_TO_VENDOR = "unknown"


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


def expect_lock_contact_contains(s: Subject, text: str) -> Check:
    """The vendor's contact details for the lock screen (protocol 2) contain ``text``."""
    return _contains("lock screen contact", s.phone.lock_contact, text)


def _vendor_warning(s: Subject, kind: WarningKind, text: str) -> Check:
    got = s.phone.warning
    if got is None:
        return Check(False, "no warning is shown")
    if got.kind is not kind:
        return Check(False, f"the warning shown is {got.kind.value}: {got.text!r}")
    return _contains(kind.value.replace("lock_", ""), got.text, text)


def expect_notice_contains(s: Subject, text: str) -> Check:
    """The phone shows the vendor's notice ahead of a lock (the one the user may dismiss)."""
    return _vendor_warning(s, WarningKind.LOCK_NOTICE, text)


def expect_reminder_contains(s: Subject, text: str) -> Check:
    """The phone shows the vendor's standing reminder ahead of a lock."""
    return _vendor_warning(s, WarningKind.LOCK_REMINDER, text)


#: ``expect.delivery`` of a device with no lock or release to speak of
NO_DELIVERY = "none"


def expect_delivery(s: Subject, state: str) -> Check:
    """The vendor's delivery state of this device's lock or release: pending, delivered, none."""
    try:
        delivery = s.admin.device(s.serial).delivery
    except AdminHttpError as exc:
        if exc.code != "device_not_found":
            return Check(False, f"the vendor cannot say: {mask_ports(str(exc))}")
        delivery = None  # never seen: nothing was ever decided for it
    except (AdminClientError, DriverError) as exc:
        return Check(False, f"the vendor cannot say: {mask_ports(str(exc))}")
    if delivery is None:
        return Check(state == NO_DELIVERY, "the vendor shows no lock or release")
    got = f"{delivery.kind} {delivery.state}"
    return Check(delivery.state == state, f"the vendor shows {got}")


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
        if all(_audit_field(entry, k) == v for k, v in want.items()):
            return Check(True, f"audit #{entry.id} {entry.kind} {entry.rule}")
    recent = "; ".join(
        f"#{e.id} {e.kind} {e.rule} {e.status or '-'} {e.reason or '-'}" for e in entries[-3:]
    )
    return Check(False, f"no such audit entry; the last: {recent or 'none'}")


def _audit_field(entry: AuditEntry, key: str) -> object:
    """An audit entry's field; ``delivered`` is the kind of lock or release its verdict carried."""
    if key == "delivered":
        delivered = entry.detail.get("delivered")
        return delivered.get("kind") if isinstance(delivered, dict) else None
    return getattr(entry, key)


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
    "notice_contains": expect_notice_contains,
    "reminder_contains": expect_reminder_contains,
    "lock_contact_contains": expect_lock_contact_contains,
    "delivery": expect_delivery,
    "server_state": expect_server_state,
    "audit": expect_audit,
    **ACCOUNT_EXPECTATIONS,
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
