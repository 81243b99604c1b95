"""Delivery states on the real server (Knox Guard's Locking and Unlocking): a lock or release is
pending until the phone's next contact carries it, then delivered at that time; the admin API,
``vendor-server admin list/show`` and the audit log say so, and the store keeps it."""

from __future__ import annotations

from pathlib import Path

import pytest

from phone_sim.protocol.identity import Factory
from server_stub.admin.client import AdminClient
from server_stub.cli import main
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.signed_client import sim
from tests.support.vendor import (
    CUBACEL,
    DAY,
    HOUR,
    TELEKOM,
    Phones,
    admin_client,
    advance,
    now,
    vendor_server,
)


def cli(server: EmbeddedVendorServer, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    capsys.readouterr()
    options = ["--url", server.url, "--token-file", str(server.admin_token.path)]
    assert main(["admin", *options, *args]) == 0
    return capsys.readouterr().out


def test_a_hold_and_a_release_are_pending_then_delivered(
    server: EmbeddedVendorServer, phones: Phones, admin: AdminClient
) -> None:
    phone = phones()
    phone.activate(sim(TELEKOM))
    assert admin.device(phone.serial).delivery is None  # nothing to deliver

    held_at = now(server)
    held = admin.lock(phone.serial, reason="investigation")
    assert held.delivery is not None
    assert (held.delivery.kind, held.delivery.state, held.delivery.decided_at) == (
        "lock",
        "pending",
        held_at,
    )
    advance(server, 5 * HOUR)
    assert admin.device(phone.serial).delivery == held.delivery  # still waiting

    phone.checkin()
    shown = admin.device(phone.serial)
    assert shown.delivery is not None
    assert (shown.delivery.state, shown.delivery.delivered_at, shown.delivery.sequence) == (
        "delivered",
        held_at + 5 * HOUR,
        2,
    )
    assert [(d.kind, d.sequence) for d in shown.deliveries] == [("lock", 2)]
    # The audit log: the hold left the lock pending; the check-in's entry delivered it.
    entries = admin.audit(limit=10).entries
    hold = next(e for e in entries if e.kind == "lock")
    assert hold.detail["delivery"] == "lock pending"
    checkin = entries[-1]
    assert (checkin.kind, checkin.reason) == ("checkin", "INVESTIGATION_HOLD")
    assert checkin.detail["delivered"] == {
        "kind": "lock",
        "decided_at": held_at,
        "pending_seconds": 5 * HOUR,
    }
    # The next check-in says locked again: nothing new is delivered.
    advance(server, DAY)
    phone.checkin()
    assert "delivered" not in admin.audit(limit=1).entries[-1].detail
    assert admin.device(phone.serial).delivery == shown.delivery

    released = admin.release(phone.serial, reason="cleared")
    assert released.delivery is not None
    assert (released.delivery.kind, released.delivery.state) == ("release", "pending")
    advance(server, HOUR)
    phone.checkin()
    back = admin.device(phone.serial)
    assert back.state == "activated"
    assert back.delivery is not None
    assert (back.delivery.kind, back.delivery.state) == ("release", "delivered")
    assert [d.kind for d in back.deliveries] == ["lock", "release"]


def test_an_embargo_lock_is_pending_from_its_due_time_to_the_next_contact(
    server: EmbeddedVendorServer, phones: Phones, admin: AdminClient
) -> None:
    phone = phones()
    phone.activate(sim(CUBACEL))
    due = now(server) + 3 * DAY
    advance(server, 3 * DAY + 7 * HOUR)  # due, and the phone has not checked in since
    waiting = admin.device(phone.serial)
    assert waiting.state == "locked"
    assert waiting.delivery is not None
    assert (waiting.delivery.state, waiting.delivery.decided_at) == ("pending", due)
    phone.checkin()
    done = admin.device(phone.serial).delivery
    assert done is not None and (done.state, done.delivered_at) == ("delivered", due + 7 * HOUR)
    assert admin.audit(limit=1).entries[-1].detail["delivered"]["pending_seconds"] == 7 * HOUR


def test_a_hold_on_a_device_not_seen_yet_is_pending(
    phones: Phones, admin: AdminClient, server: EmbeddedVendorServer
) -> None:
    phone = phones()
    admin.lock(phone.identity.claims.imeis[0], reason="investigation")
    (unseen,) = admin.devices()
    assert unseen.delivery is not None and unseen.delivery.state == "pending"
    phone.activate(sim(TELEKOM))
    (seen,) = admin.devices()
    assert seen.delivery is not None
    assert (seen.delivery.state, seen.delivery.sequence) == ("delivered", 1)


def test_deliveries_survive_a_restart(tmp_path: Path, factory: Factory) -> None:
    with vendor_server(tmp_path) as server, admin_client(server) as admin:
        phone = Phones(factory, server)()
        phone.activate(sim(TELEKOM))
        admin.lock(phone.serial, reason="investigation")
        advance(server, HOUR)
        phone.checkin()
        before = admin.device(phone.serial).delivery
    with vendor_server(tmp_path) as again, admin_client(again) as admin:
        after = admin.device(phone.serial)
    assert before is not None and after.delivery == before
    assert after.deliveries[-1].delivered_at == before.delivered_at


def test_the_cli_shows_the_delivery_in_list_and_show(
    server: EmbeddedVendorServer, phones: Phones, capsys: pytest.CaptureFixture[str]
) -> None:
    phone = phones()
    phone.activate(sim(TELEKOM))
    cli(server, capsys, "lock", phone.serial, "--reason", "investigation")
    lines = cli(server, capsys, "list").splitlines()
    header, row = lines[0], next(line for line in lines if line.startswith(phone.serial))
    assert row[header.index("DELIVERY") :].startswith("lock pending")
    assert "delivery:        lock pending since 2021-09-01 12:00:00Z" in cli(
        server, capsys, "show", phone.serial
    )

    advance(server, DAY)
    phone.checkin()
    lines = cli(server, capsys, "list").splitlines()
    header, row = lines[0], next(line for line in lines if line.startswith(phone.serial))
    assert row[header.index("DELIVERY") :].startswith("lock delivered 2021-09-02 12:00:00Z")
    shown = cli(server, capsys, "show", phone.serial)
    assert (
        "delivery:        lock delivered 2021-09-02 12:00:00Z "
        "(verdict 2, decided 2021-09-01 12:00:00Z)"
    ) in shown
    assert "deliveries:" in shown and "2021-09-02 12:00:00Z" in shown.split("deliveries:")[1]
