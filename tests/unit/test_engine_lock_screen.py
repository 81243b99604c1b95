"""The engine's side of issue #18, without a server: the verdict's protocol 2 fields under a
policy (``engine/notices.py``), the policy's new tables, and when a lock or release is pending
or delivered (``engine/delivery.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from phone_sim.protocol.messages import VerdictStatus
from server_stub.cli import main
from server_stub.engine.decide import place_hold, project, release
from server_stub.engine.delivery import (
    DeliveryKind,
    DeliveryState,
    current,
    delivered_now,
    pending,
)
from server_stub.engine.notices import lock_screen_fields
from server_stub.errors import PolicyError
from server_stub.policy import Policy, load_default_policy, parse_policy
from server_stub.store.db import DeliveryRow
from tests.support.policies import DAY, delay, policy_text
from tests.support.signed_client import SEPT_2021, sim
from tests.unit.test_engine import CUBACEL, TELEKOM, Device

LOCK_TABLES = """
[lock_screen]
phone = "+86 400 100 5678"
email = "help@xiaomi.example"

[lock_warning]
notice_days_before = 2
reminder_days_before = 0.5
notice = "Locked in two days."
reminder = "Locked tonight."
"""


def warning_policy(*replacements: tuple[str, str]) -> Policy:
    return parse_policy(policy_text(*replacements, extra=LOCK_TABLES))


# --- the policy's tables ----------------------------------------------------------------------


def test_the_packaged_policy_warns_nobody_and_gives_no_contact() -> None:
    policy = load_default_policy()
    assert policy.lock_warning is None and policy.lock_screen is None
    device = Device(policy)
    assert lock_screen_fields(policy, device.contact(sim(CUBACEL))) == {}


def test_the_tables_parse_into_seconds() -> None:
    policy = warning_policy()
    assert policy.lock_screen is not None and policy.lock_screen.phone == "+86 400 100 5678"
    rule = policy.lock_warning
    assert rule is not None
    assert (rule.notice_before, rule.reminder_before) == (2 * DAY, DAY // 2)
    assert (rule.notice, rule.reminder) == ("Locked in two days.", "Locked tonight.")


@pytest.mark.parametrize(
    ("table", "line", "message"),
    [
        ('[lock_screen]\nphone = "+1 (800) 555-0100 x 12"', 2, "is 22 characters; the limit is 20"),
        (
            '[lock_screen]\nemail = "' + "a" * 49 + '@example.com"',
            2,
            "61 characters; the limit is 60",
        ),
        ('[lock_screen]\nemail = "help at example"', 2, "must be an e-mail address"),
        ("[lock_screen]", 1, "give phone, email or both"),
        ("[lock_warning]\nreminder_days_before = 1", 1, "notice_days_before: is required"),
        (
            "[lock_warning]\nnotice_days_before = 1\nreminder_days_before = 2",
            3,
            "must not be more than notice_days_before",
        ),
        (
            '[lock_warning]\nnotice_days_before = 1\nreminder_days_before = 0\nnotice = "'
            + "x" * 351
            + '"',
            4,
            "is 351 characters; the limit is 350",
        ),
        ("[lock_warning]\nnotice_days_before = 0\nreminder_days_before = 0", 2, "must be between"),
    ],
)
def test_values_past_the_limits_are_refused_at_their_line(
    table: str, line: int, message: str
) -> None:
    text = policy_text()
    first = text.count("\n") + 2  # the table starts after one blank line
    with pytest.raises(PolicyError) as refused:
        parse_policy(text + "\n" + table + "\n", source="p.toml")
    assert f"p.toml:{first + line - 1}:" in str(refused.value)
    assert message in str(refused.value)


# --- what a verdict carries -------------------------------------------------------------------


def test_a_flagged_phone_gets_the_plan_and_every_phone_the_contact() -> None:
    policy = warning_policy()
    flagged = Device(policy).contact(sim(CUBACEL))
    fields = lock_screen_fields(policy, flagged)
    lock_at = SEPT_2021 + 3 * DAY
    assert flagged.lock_due_at == lock_at
    warning = fields["lock_warning"]
    assert (warning.lock_at, warning.notice_at, warning.reminder_at) == (
        lock_at,
        lock_at - 2 * DAY,
        lock_at - DAY // 2,
    )
    assert (fields["contact_phone"], fields["contact_email"]) == (
        "+86 400 100 5678",
        "help@xiaomi.example",
    )
    german = lock_screen_fields(policy, Device(policy).contact(sim(TELEKOM)))
    assert set(german) == {"contact_phone", "contact_email"}


def test_no_warning_once_locked_nor_ahead_of_a_lock_that_comes_at_once() -> None:
    policy = warning_policy()
    device = Device(policy)
    device.contact(sim(CUBACEL))
    locked = device.contact(sim(CUBACEL), after=3 * DAY)
    assert locked.status is VerdictStatus.LOCKED
    assert "lock_warning" not in lock_screen_fields(policy, locked)
    at_once = warning_policy(delay(0))
    immediate = Device(at_once).contact(sim(CUBACEL))
    assert immediate.status is VerdictStatus.LOCKED
    assert "lock_warning" not in lock_screen_fields(at_once, immediate)


def test_a_warning_longer_than_the_delay_starts_at_once() -> None:
    policy = parse_policy(
        policy_text(extra="\n[lock_warning]\nnotice_days_before = 5\nreminder_days_before = 1\n")
    )
    fields = lock_screen_fields(policy, Device(policy).contact(sim(CUBACEL)))
    assert fields["lock_warning"].notice_at < SEPT_2021 < fields["lock_warning"].reminder_at


# --- pending and delivered --------------------------------------------------------------------


def row(kind: DeliveryKind, *, at: int, decided: int | None, sequence: int = 1) -> DeliveryRow:
    return DeliveryRow("S1", sequence, kind.value, "X", decided, at)


def test_a_hold_is_pending_until_a_verdict_carries_it() -> None:
    policy = load_default_policy()
    device = Device(policy)
    device.contact(sim(TELEKOM))
    assert pending(device.memory, project(policy, device.memory, market="MI", at=device.at)) is None
    device.memory = place_hold(device.memory, reason="x", message=None, at=device.at + 60)
    device.at += 3600
    waiting = pending(device.memory, project(policy, device.memory, market="MI", at=device.at))
    assert waiting is not None
    assert (waiting.kind, waiting.state, waiting.decided_at) == (
        DeliveryKind.LOCK,
        DeliveryState.PENDING,
        SEPT_2021 + 60,
    )
    before = device.memory
    locked = device.contact(sim(TELEKOM))
    done = delivered_now(before, locked, serial="S1", sequence=2, at=device.at)
    assert done == DeliveryRow("S1", 2, "lock", "INVESTIGATION_HOLD", SEPT_2021 + 60, device.at)
    # Told now: nothing pending; the operator sees the delivery.
    projected = project(policy, device.memory, market="MI", at=device.at)
    assert pending(device.memory, projected) is None
    shown = current(device.memory, projected, done)
    assert shown is not None and (shown.state, shown.delivered_at) == (
        DeliveryState.DELIVERED,
        device.at,
    )
    # The next verdict says locked again: no second delivery.
    again = device.contact(sim(TELEKOM), after=DAY)
    assert delivered_now(device.memory, again, serial="S1", sequence=3, at=device.at) is None


def test_an_embargo_lock_is_decided_when_its_delay_runs_out() -> None:
    policy = load_default_policy()
    device = Device(policy)
    device.contact(sim(CUBACEL))
    due = SEPT_2021 + 3 * DAY
    device.at = due - 1
    assert pending(device.memory, project(policy, device.memory, market="MI", at=device.at)) is None
    device.at = due + 5 * 3600  # due, and the phone has not come back yet
    waiting = pending(device.memory, project(policy, device.memory, market="MI", at=device.at))
    assert waiting is not None and (waiting.kind, waiting.decided_at) == (DeliveryKind.LOCK, due)
    before = device.memory
    locked = device.contact(sim(CUBACEL))
    done = delivered_now(before, locked, serial="S1", sequence=4, at=device.at)
    assert done is not None and (done.decided_at, done.delivered_at) == (due, due + 5 * 3600)


def test_a_release_is_pending_until_the_phone_hears_it() -> None:
    policy = load_default_policy()
    device = Device(
        policy, memory=place_hold(Device(policy).memory, reason="x", message=None, at=0)
    )
    device.contact(sim(TELEKOM))
    freed = release(policy, device.memory, market="MI", reason="ok", at=device.at + 10)
    assert freed is not None
    device.memory = freed
    device.at += 10
    waiting = pending(device.memory, project(policy, device.memory, market="MI", at=device.at))
    assert waiting is not None and (waiting.kind, waiting.decided_at) == (
        DeliveryKind.RELEASE,
        device.at,
    )
    before = device.memory
    released = device.contact(sim(TELEKOM), after=DAY)
    done = delivered_now(before, released, serial="S1", sequence=3, at=device.at)
    assert done is not None and (done.kind, done.reason) == ("release", "RELEASED")


def test_a_first_contact_that_locks_delivers_a_lock_and_one_that_activates_nothing() -> None:
    policy = warning_policy(delay(0))
    fresh = Device(policy).memory
    locked = Device(policy).contact(sim(CUBACEL))
    done = delivered_now(fresh, locked, serial="S1", sequence=1, at=SEPT_2021)
    assert done is not None and done.decided_at == SEPT_2021
    activated = Device(policy).contact(sim(TELEKOM))
    assert delivered_now(fresh, activated, serial="S1", sequence=1, at=SEPT_2021) is None
    assert current(activated.memory, activated, None) is None


def test_policy_check_refuses_what_is_too_long_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(policy_text(extra=LOCK_TABLES))
    assert main(["policy", "check", str(good)]) == 0
    capsys.readouterr()
    text = policy_text(extra=LOCK_TABLES)
    too_long = text.replace('"+86 400 100 5678"', '"+86 400 100 5678 00000"').replace(
        '"Locked tonight."', '"' + "x" * 351 + '"'
    )
    bad.write_text(too_long)
    assert main(["policy", "check", str(bad)]) == 2
    err = capsys.readouterr().err.splitlines()
    lines = too_long.splitlines()
    phone_line = lines.index('phone = "+86 400 100 5678 00000"') + 1
    reminder_line = next(i for i, line in enumerate(lines, 1) if line.startswith("reminder = "))
    assert err == [
        f"vendor-server: {bad}:{phone_line}: lock_screen.phone: is 22 characters; the limit is 20",
        f"vendor-server: {bad}:{reminder_line}: lock_warning.reminder: is 351 characters; "
        "the limit is 350",
    ]
