"""The admin API on the real server: holds, releases, policy, audit log, clock, refusals."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from phone_sim.protocol.identity import Factory
from phone_sim.protocol.messages import VerdictStatus
from server_stub.admin.client import AdminClient, AdminHttpError
from server_stub.datadir.settings import ServerSettings
from server_stub.errors import PolicyError
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.nesting import KINDS, nested
from tests.support.policies import delay, policy_text, without_cuba
from tests.support.signed_client import session, sim
from tests.support.vendor import (
    CUBACEL,
    DAY,
    HOUR,
    SYRIATEL,
    TELEKOM,
    Phones,
    admin_client,
    advance,
    now,
    vendor_server,
)

ACTIVATED, LOCKED = VerdictStatus.ACTIVATED, VerdictStatus.LOCKED


# --- holds and releases -----------------------------------------------------------------------


def test_hold_locks_at_the_next_checkin_and_release_reaches_it_at_the_one_after(
    phones: Phones, admin: AdminClient
) -> None:
    phone = phones()
    phone.activate(sim(TELEKOM))
    held = admin.lock(phone.serial, reason="investigation", message="Held for an investigation.")
    assert (held.state, held.hold is not None and held.hold.reason) == ("held", "investigation")

    advance(phone.server, DAY)
    locked = phone.checkin()
    assert (locked.status, locked.reason, locked.message) == (
        LOCKED,
        "INVESTIGATION_HOLD",
        "Held for an investigation.",
    )
    advance(phone.server, DAY)
    assert phone.checkin().status is LOCKED  # a locked phone keeps checking in

    released = admin.release(phone.identity.claims.imeis[1], reason="cleared")  # by IMEI
    assert released.state == "released"
    advance(phone.server, DAY)
    back = phone.checkin()
    assert (back.status, back.reason, back.message) == (
        ACTIVATED,
        "RELEASED",
        "Your device can now be used.",
    )
    assert phone.checkin().reason == "ACTIVATION_OK"
    assert admin.device(phone.serial).state == "activated"


def test_a_hold_on_an_imei_not_seen_yet_applies_at_first_activation(
    phones: Phones, admin: AdminClient
) -> None:
    phone = phones()
    imei = phone.identity.claims.imeis[0]
    admin.lock(imei, reason="investigation")
    (pending,) = admin.devices()
    assert (pending.state, pending.serial, pending.imeis) == ("never-seen", None, [imei])

    verdict = phone.activate(sim(TELEKOM))
    assert (verdict.status, verdict.reason) == (LOCKED, "INVESTIGATION_HOLD")
    (device,) = admin.devices()
    assert (device.serial, device.state) == (phone.serial, "held")


def test_a_released_embargo_lock_stays_released_until_new_evidence(
    tmp_path: Path, factory: Factory
) -> None:
    with (
        vendor_server(tmp_path, policy=policy_text(delay(0))) as server,
        admin_client(server) as admin,
    ):
        phone = Phones(factory, server)()
        assert phone.activate(sim(CUBACEL)).status is LOCKED
        admin.release(phone.serial, reason="smuggling-investigation-closed")
        assert phone.checkin().reason == "RELEASED"
        for _ in range(3):  # the same SIM, days later: still fine
            advance(server, DAY)
            assert phone.checkin().status is ACTIVATED
        syria = phone.checkin(sim(SYRIATEL))  # new evidence
        assert (syria.status, syria.reason) == (LOCKED, "EMBARGOED_TERRITORY")
        assert admin.device(phone.serial).pardoned == ["territory:Cuba"]


def test_bulk_release_frees_held_locked_and_flagged_devices(
    phones: Phones, admin: AdminClient
) -> None:
    held, locked, flagged, clean = phones(), phones(), phones(), phones()
    held.activate(sim(TELEKOM))
    locked.activate(sim(CUBACEL))
    clean.activate(sim(TELEKOM))
    advance(held.server, 3 * DAY)
    assert locked.checkin().status is LOCKED
    flagged.activate(sim(CUBACEL))
    admin.lock(held.serial, reason="investigation")
    states = {d.serial: d.state for d in admin.devices()}
    assert [states[p.serial] for p in (held, locked, flagged, clean)] == [
        "held",
        "locked",
        "flagged",
        "activated",
    ]

    result = admin.release_all(reason="policy-review-2021-09-13")
    assert sorted(result.released) == sorted([held.serial, locked.serial, flagged.serial])

    advance(held.server, HOUR)
    assert [p.checkin().reason for p in (held, locked, flagged, clean)] == [
        "ACTIVATION_OK",  # the hold was never delivered: the phone never knew
        "RELEASED",
        "ACTIVATION_OK",
        "ACTIVATION_OK",
    ]
    advance(held.server, 5 * DAY)
    assert flagged.checkin().status is ACTIVATED  # the pending lock is gone too
    actions = [e for e in admin.audit(limit=100).entries if e.actor != "device"]
    assert [(e.kind, e.serial) for e in actions] == [
        ("lock", held.serial),
        ("release", held.serial),
        ("release", locked.serial),
        ("release", flagged.serial),
        ("bulk-release", None),
    ]
    assert actions[-1].detail["released"] == result.released


def test_a_policy_change_releases_the_affected_devices(phones: Phones, admin: AdminClient) -> None:
    cuban, syrian = phones(), phones()
    cuban.activate(sim(CUBACEL))
    syrian.activate(sim(SYRIATEL))
    advance(cuban.server, 3 * DAY)
    assert cuban.checkin().status is LOCKED
    assert syrian.checkin().status is LOCKED

    replaced = admin.set_policy(policy_text(without_cuba(), version="2021-09-13-cuba-lifted"))
    assert (replaced.version, replaced.previous_version) == (
        "2021-09-13-cuba-lifted",
        "2021-09-sanctions-2",
    )
    assert admin.device(cuban.serial).state == "released"
    advance(cuban.server, HOUR)
    freed = cuban.checkin()
    assert (freed.status, freed.reason, freed.policy_version) == (
        ACTIVATED,
        "RELEASED",
        "2021-09-13-cuba-lifted",
    )
    assert syrian.checkin().status is LOCKED
    (entry,) = admin.audit(serial=cuban.serial, limit=1).entries
    assert entry.rule == "release:re-evaluated"


# --- the policy -------------------------------------------------------------------------------


def test_a_bad_policy_is_refused_with_the_reason_and_the_old_one_stays(
    tmp_path: Path, factory: Factory
) -> None:
    bad = policy_text(("delay_days = 3", "delay_days = -2"), version="broken")
    with vendor_server(tmp_path) as server, admin_client(server) as admin:
        with pytest.raises(AdminHttpError) as info:
            admin.set_policy(bad)
        assert (info.value.status, info.value.code) == (400, "policy_invalid")
        assert "enforcement.delay_days: must be between 0 and 3650, got -2" in info.value.message
        assert admin.policy().version == "2021-09-sanctions-2"
    assert not (tmp_path / "vendor" / "policy.toml").exists()
    with vendor_server(tmp_path) as server, admin_client(server) as admin:
        assert admin.policy().version == "2021-09-sanctions-2"


@pytest.mark.parametrize("kind", KINDS)
def test_a_deeply_nested_policy_is_400_not_500(admin: AdminClient, kind: str) -> None:
    # Before: tomllib's RecursionError (or minutes of quadratic work on a dotted key) in the
    # request, a 500. Now one problem at the line, and the policy in force stays. 20,000
    # levels: past the recursion limit and within the admin API's 256 KiB body.
    deep = nested("extra", kind, depth=20_000)
    text = policy_text(("[enforcement]", deep + "[enforcement]"), version="deep")
    line = text.splitlines().index("[enforcement]")  # the line just before it
    with pytest.raises(AdminHttpError) as info:
        admin.set_policy(text)
    assert (info.value.status, info.value.code) == (400, "policy_invalid")
    assert info.value.message == (
        f"policy:{line}: extra: nested more than 32 levels deep (tables, arrays or dotted keys)"
    )
    assert admin.policy().version == "2021-09-sanctions-2"


def test_every_problem_of_a_put_policy_is_in_the_answer(admin: AdminClient) -> None:
    text = policy_text(
        ("delay_days = 3", "delay_days = -2"),
        ('dual_sim = "any"', 'dual_sim = "both"'),
        ('networks = ["432"]', 'networks = ["43"]'),
        version="three-mistakes",
    )
    lines = text.splitlines()

    def line(written: str) -> int:
        return lines.index(written) + 1

    with pytest.raises(AdminHttpError) as info:
        admin.set_policy(text)
    assert (info.value.status, info.value.code) == (400, "policy_invalid")
    assert info.value.message.splitlines() == [
        f"policy:{line('delay_days = -2')}: enforcement.delay_days: "
        "must be between 0 and 3650, got -2",
        f"policy:{line('dual_sim = ' + chr(34) + 'both' + chr(34))}: match.dual_sim: "
        "must be one of 'any', 'all', 'first', got 'both'",
        f"policy:{line('networks = [' + chr(34) + '43' + chr(34) + ']')}: "
        "territories[1].networks[0]: '43' is neither an MCC (e.g. '368') nor an MCC-MNC "
        "(e.g. '250-60')",
    ]


def test_an_accepted_policy_is_in_force_after_a_restart(tmp_path: Path, factory: Factory) -> None:
    text = policy_text(delay(0), version="2021-09-immediate")
    with vendor_server(tmp_path) as server, admin_client(server) as admin:
        admin.set_policy(text)
        assert admin.policy().text == text
    installed = tmp_path / "vendor" / "policy.toml"
    assert installed.read_text() == text
    with vendor_server(tmp_path) as server, admin_client(server) as admin:
        assert (admin.policy().version, admin.policy().source) == (
            "2021-09-immediate",
            str(installed),
        )
        verdict = Phones(factory, server)().activate(sim(CUBACEL))
        assert (verdict.status, verdict.policy_version) == (LOCKED, "2021-09-immediate")


def test_a_hand_broken_installed_policy_stops_the_server_with_the_reason(
    tmp_path: Path, factory: Factory
) -> None:
    with vendor_server(tmp_path) as server, admin_client(server) as admin:
        admin.set_policy(policy_text(version="good"))
    (tmp_path / "vendor" / "policy.toml").write_text('version = "x"\n')
    with (
        pytest.raises(PolicyError, match=r"policy.toml: territories: must be a non-empty array"),
        vendor_server(tmp_path),
    ):
        pass


def test_a_different_policy_under_the_same_version_is_refused(admin: AdminClient) -> None:
    same_version = policy_text(delay(1), version="2021-09-sanctions-2")
    with pytest.raises(AdminHttpError) as info:
        admin.set_policy(same_version)
    assert (info.value.status, info.value.code) == (409, "policy_version_unchanged")
    assert admin.set_policy(admin.policy().text).version == "2021-09-sanctions-2"  # same text: fine


# --- audit log, clock, errors -----------------------------------------------------------------


def test_the_audit_log_holds_every_decision_and_action(
    server: EmbeddedVendorServer, phones: Phones, admin: AdminClient
) -> None:
    a, b = phones(), phones()
    a.activate(sim(CUBACEL))
    b.activate(sim(TELEKOM))
    admin.advance_clock(3 * DAY)
    a.checkin()
    b.checkin()
    admin.lock(b.serial, reason="investigation")
    b.checkin()
    admin.release(b.serial, reason="cleared")
    b.checkin()

    entries = admin.audit(limit=1000).entries
    decisions = [e for e in entries if e.kind in ("activation", "checkin")]
    verdicts = [v for p in (a, b) for v in server.store.verdicts(p.serial)]
    assert len(decisions) == len(verdicts) == 6
    for entry in decisions:
        assert entry.actor == "device"
        assert entry.policy_version == "2021-09-sanctions-2"
        assert entry.inputs["sims"] and entry.inputs["nonce"]
        assert entry.status in ("activated", "locked") and entry.reason and entry.rule
    assert [(e.serial, e.sequence, e.reason) for e in decisions] == [
        (a.serial, 1, "ACTIVATION_OK"),
        (b.serial, 1, "ACTIVATION_OK"),
        (a.serial, 2, "EMBARGOED_TERRITORY"),
        (b.serial, 2, "ACTIVATION_OK"),
        (b.serial, 3, "INVESTIGATION_HOLD"),
        (b.serial, 4, "RELEASED"),
    ]
    actions = [(e.kind, e.rule, e.actor) for e in entries if e.actor != "device"]
    assert actions == [
        ("clock", "operator:advance-clock", "admin@127.0.0.1"),
        ("lock", "operator:hold", "admin@127.0.0.1"),
        ("release", "operator:release", "admin@127.0.0.1"),
    ]
    # Paging for a live tail: what follows an id, oldest first.
    middle = entries[3].id
    assert [e.id for e in admin.audit(after_id=middle, limit=2).entries] == [
        entries[4].id,
        entries[5].id,
    ]
    # The log is append-only in the database itself.
    db = sqlite3.connect(server.store.path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM audit")
    db.close()


def test_the_clock_can_be_read_and_advanced(
    server: EmbeddedVendorServer, admin: AdminClient
) -> None:
    start = admin.clock()
    assert (start.now, start.simulated) == (now(server), True)
    later = admin.advance_clock(3 * DAY)
    assert later.now == start.now + 3 * DAY == now(server)  # the server's clock itself moved
    with pytest.raises(AdminHttpError) as info:
        admin.advance_clock(0)
    assert (info.value.status, info.value.code) == (400, "malformed_request")


def test_real_time_cannot_be_advanced(tmp_path: Path, factory: Factory) -> None:
    settings = ServerSettings(data_dir=tmp_path / "vendor", port=0)
    with EmbeddedVendorServer(settings) as server, admin_client(server) as admin:
        assert admin.clock().simulated is False
        with pytest.raises(AdminHttpError) as info:
            admin.advance_clock(60)
    assert (info.value.status, info.value.code) == (409, "clock_not_adjustable")


@pytest.mark.parametrize(
    ("ident", "status", "code"),
    [
        ("RN10P9999999", 404, "device_not_found"),
        ("867531040000019", 400, "malformed_request"),  # 15 digits, wrong check digit
        ("no spaces!", 400, "malformed_request"),
    ],
)
def test_unknown_and_malformed_identifiers(
    admin: AdminClient, ident: str, status: int, code: str
) -> None:
    with pytest.raises(AdminHttpError) as info:
        admin.release(ident, reason="cleared")
    assert (info.value.status, info.value.code) == (status, code)


def test_refusals_are_json_errors(
    phones: Phones, admin: AdminClient, server: EmbeddedVendorServer
) -> None:
    phone = phones()
    phone.activate(sim(TELEKOM))
    with pytest.raises(AdminHttpError) as info:
        admin.release(phone.serial, reason="cleared")
    assert (info.value.status, info.value.code) == (409, "nothing_to_release")
    headers = {"Authorization": f"Bearer {server.admin_token.value}"}
    for body in ({"reason": ""}, {"reason": "  "}, {"reason": "x", "colour": "red"}, {}):
        response = session().post(
            f"{server.url}/admin/devices/{phone.serial}/lock", json=body, headers=headers, timeout=5
        )
        assert response.status_code == 400, body
        assert response.json()["error"]["code"] == "malformed_request"
    assert admin.device(phone.serial).state == "activated"
