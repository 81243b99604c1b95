"""On the device model: what the vendor asks the phone to show around a lock (protocol 2).

The vendor's notice ahead of a lock (dismissible, shown once), its reminder (standing), the
choice between them and the phone's own offline warning, and the lock screen's contact details;
the state file keeps all of it. Through the real server and app: the shipped scenarios
``lock-warning-notice-then-reminder`` and ``lock-screen-contact``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from phone_sim.device.errors import CorruptStateError, TransitionRefused
from phone_sim.device.events import EventKind, PhoneEvent
from phone_sim.device.offline import WarningKind
from phone_sim.device.phone import Phone
from phone_sim.device.state import DeviceState
from phone_sim.device.status import status_text
from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.lock_screen import LockWarning
from tests.unit.test_checkin_model import activated, make_phone
from tests.unit.test_phone_model import START

DAY = 86400
LOCK_AT = int(START) + 3 * DAY
PLAN = LockWarning(
    lock_at=LOCK_AT,
    notice_at=LOCK_AT - 2 * DAY,
    notice="Locked in two days.",
    reminder_at=LOCK_AT - DAY,
    reminder="Locked tomorrow.",
)
CONTACT = {"contact_phone": "+86 400 100 5678", "contact_email": "help@xiaomi.example"}


@pytest.fixture(scope="module")
def factory() -> Factory:
    return Factory.create()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def phone(tmp_path: Path, factory: Factory, clock: FixedClock) -> Phone:
    return make_phone(tmp_path, factory, clock)


def warned(phone: Phone, plan: LockWarning = PLAN, **verdict: object) -> None:
    """An activated verdict of protocol 2 carrying ``plan`` (and ``verdict``'s fields)."""
    activated(phone, protocol=2, lock_warning=plan, expires_at=int(START) + 30 * DAY, **verdict)
    phone.tick()


def at(phone: Phone, clock: FixedClock, when: float) -> None:
    clock.advance(when - clock.now())
    phone.tick()


# --- the notice and the reminder ----------------------------------------------------------


def test_nothing_before_the_notice_then_the_notice_then_the_reminder(
    phone: Phone, clock: FixedClock
) -> None:
    warned(phone)
    assert phone.warning is None
    at(phone, clock, PLAN.notice_at - 1)
    assert phone.warning is None
    at(phone, clock, PLAN.notice_at)
    assert phone.warning is not None
    assert (phone.warning.kind, phone.warning.text) == (WarningKind.LOCK_NOTICE, PLAN.notice)
    assert phone.warning.dismissible and phone.warning.lock_at == LOCK_AT
    assert "⚠ locks 04 Sep 12:00" in status_text(phone)
    at(phone, clock, PLAN.reminder_at)
    assert (phone.warning.kind, phone.warning.text) == (WarningKind.LOCK_REMINDER, PLAN.reminder)
    assert not phone.warning.dismissible
    # The lock is the vendor's to deliver: past its date the reminder stays until it comes.
    at(phone, clock, LOCK_AT + DAY)
    assert phone.warning is not None and phone.warning.kind is WarningKind.LOCK_REMINDER


def test_a_dismissed_notice_stays_dismissed_across_a_restart_and_the_same_plan(
    tmp_path: Path, factory: Factory, phone: Phone, clock: FixedClock
) -> None:
    warned(phone)
    at(phone, clock, PLAN.notice_at)
    phone.dismiss_notice()
    assert phone.warning is None
    assert phone.persisted.notice_dismissed
    # The next check-in brings the same plan: still dismissed.
    warned(phone)
    assert phone.warning is None
    # A restart of the phone (its state file read back): still dismissed.
    again = Phone.load(phone.storage, clock=clock)  # type: ignore[arg-type]
    again.power_on()
    again.finish_boot()
    again.tick()
    assert again.warning is None
    # The reminder is another matter: it shows, and it cannot be dismissed.
    at(again, clock, PLAN.reminder_at)
    assert again.warning is not None and again.warning.kind is WarningKind.LOCK_REMINDER
    with pytest.raises(TransitionRefused, match="no notice is shown"):
        again.dismiss_notice()
    assert again.warning is not None


def test_a_new_lock_date_shows_its_notice_again(phone: Phone, clock: FixedClock) -> None:
    warned(phone)
    at(phone, clock, PLAN.notice_at)
    phone.dismiss_notice()
    later = PLAN.model_copy(update={"lock_at": LOCK_AT + DAY, "reminder_at": LOCK_AT})
    warned(phone, later)
    assert phone.warning is not None and phone.warning.kind is WarningKind.LOCK_NOTICE
    assert phone.warning.lock_at == LOCK_AT + DAY


def test_nothing_to_dismiss_is_refused(phone: Phone, clock: FixedClock) -> None:
    warned(phone)
    with pytest.raises(TransitionRefused, match="no notice is shown"):
        phone.dismiss_notice()
    assert not phone.persisted.notice_dismissed


def test_a_release_and_a_lock_end_the_warnings(phone: Phone, clock: FixedClock) -> None:
    warned(phone)
    at(phone, clock, PLAN.reminder_at)
    assert phone.warning is not None
    # A verdict without a plan (a release, a pardon): nothing is shown any more.
    activated(phone, expires_at=int(START) + 30 * DAY)
    phone.tick()
    assert phone.warning is None and phone.persisted.lock_warning is None
    warned(phone)
    assert phone.warning is not None
    # The lock itself.
    activated(phone, status="locked", reason="EMBARGOED_TERRITORY")
    assert phone.state is DeviceState.LOCKED and phone.warning is None


def test_the_earlier_lock_is_the_warning_shown(phone: Phone, clock: FixedClock) -> None:
    # The phone's own offline rule locks it on day 4, warning from day 2; the vendor's lock
    # falls due on day 3, its reminder from day 2. On day 2.5 both stand: the vendor's first.
    warned(phone, offline_lock_after=4 * DAY, offline_warning_before=2 * DAY)
    at(phone, clock, START + 2.5 * DAY)
    assert phone.warning is not None and phone.warning.kind is WarningKind.LOCK_REMINDER
    assert phone.warning.lock_at == LOCK_AT
    # A vendor lock further off than the phone's own: the phone's own warning is shown.
    far = LockWarning(
        lock_at=LOCK_AT + 10 * DAY,
        notice_at=int(START),
        notice="Much later.",
        reminder_at=LOCK_AT + 9 * DAY,
        reminder="Later.",
    )
    warned(phone, far, offline_lock_after=5 * DAY, offline_warning_before=2 * DAY)
    at(phone, clock, clock.now() + 3 * DAY + 60)
    assert phone.warning is not None and phone.warning.kind is WarningKind.OFFLINE_LOCK
    # Dismissing is offered only while the notice itself is the warning shown.
    with pytest.raises(TransitionRefused):
        phone.dismiss_notice()


# --- the lock screen's contact details ----------------------------------------------------


def test_contact_details_come_with_verdicts_and_go_with_them(
    phone: Phone, clock: FixedClock
) -> None:
    assert phone.lock_contact == ""
    activated(phone, protocol=2, **CONTACT)
    assert phone.lock_contact == "+86 400 100 5678 · help@xiaomi.example"
    activated(phone, status="locked", reason="EMBARGOED_TERRITORY", protocol=2, **CONTACT)
    assert phone.state is DeviceState.LOCKED
    phone.reboot()
    phone.finish_boot()
    assert phone.lock_contact == "+86 400 100 5678 · help@xiaomi.example"
    activated(phone, protocol=2, contact_email="help@xiaomi.example")
    assert phone.lock_contact == "help@xiaomi.example"
    activated(phone)  # a verdict without them (a version 1 server): none shown
    assert phone.lock_contact == ""


# --- the state file -----------------------------------------------------------------------


def test_the_state_file_keeps_everything_and_reads_an_older_file(
    phone: Phone, clock: FixedClock
) -> None:
    warned(phone, **CONTACT)
    storage = phone.storage
    assert storage is not None
    data = json.loads(storage.state_path.read_bytes())
    assert data["lock_warning"] == PLAN.to_json()
    assert (data["contact_phone"], data["contact_email"]) == tuple(CONTACT.values())
    assert storage.load_state() == phone.persisted
    for key in ("lock_warning", "contact_phone", "contact_email", "notice_dismissed"):
        del data[key]  # a file written before protocol 2
    storage.state_path.write_text(json.dumps(data))
    older = storage.load_state()
    assert (older.lock_warning, older.contact_phone, older.notice_dismissed) == (None, None, False)


@pytest.mark.parametrize(
    "bad",
    [
        {"lock_warning": {"lock_at": 1}},
        {"lock_warning": PLAN.to_json() | {"notice_at": LOCK_AT + 1}},
        {"contact_phone": 123},
    ],
)
def test_a_broken_plan_in_the_state_file_is_reported(phone: Phone, bad: dict[str, object]) -> None:
    warned(phone)
    storage = phone.storage
    assert storage is not None
    data = json.loads(storage.state_path.read_bytes()) | bad
    storage.state_path.write_text(json.dumps(data))
    with pytest.raises(CorruptStateError, match=r"state\.json"):
        storage.load_state()


def test_a_check_in_that_brings_the_same_plan_does_not_show_the_notice_again(
    phone: Phone, clock: FixedClock
) -> None:
    # The notice is shown once: a check-in in its window (the same plan) leaves it standing,
    # without taking it down and putting it up again (the app would pop it up a second time).
    warned(phone)
    at(phone, clock, PLAN.notice_at)
    shown = phone.warning
    events: list[PhoneEvent] = []
    phone.subscribe(events.append)
    warned(phone)
    assert phone.warning == shown
    assert [e for e in events if e.kind is EventKind.WARNING] == []
