"""Delayed enforcement on the real server: check-ins over simulated days, signed verdicts.

Each test runs a vendor server on loopback with a FixedClock it advances, and phones that sign
at the server's time and verify every verdict's vendor signature before looking at it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from phone_sim.protocol.identity import Factory
from phone_sim.protocol.messages import VerdictStatus
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.policies import (
    delay,
    dual_sim,
    offline,
    policy_text,
    region_lock,
    sim_swap_lifts_lock,
)
from tests.support.signed_client import (
    ACTIVATION_PATH,
    CHECKIN_PATH,
    send,
    sim,
)
from tests.support.vendor import (
    CHINA_MOBILE,
    CUBACEL,
    DAY,
    HOUR,
    SYRIATEL,
    TELEKOM,
    Phones,
    advance,
    now,
    vendor_server,
)

ACTIVATED, LOCKED = VerdictStatus.ACTIVATED, VerdictStatus.LOCKED
LOCK_MESSAGE_START = "Xiaomi policy does not permit sale or provision of the product"


@pytest.fixture(scope="module")
def default_world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Factory, EmbeddedVendorServer]]:
    """One server with the packaged policy for the module: tests use their own devices and
    only relative times, so they can share it (a server costs ~0.3 s to start and stop)."""
    tmp_path = tmp_path_factory.mktemp("enforcement")
    factory = Factory.open(tmp_path / "factory")
    with vendor_server(tmp_path) as server:
        yield factory, server


@pytest.fixture
def phones(default_world: tuple[Factory, EmbeddedVendorServer]) -> Phones:
    return Phones(*default_world)


def test_lock_is_delivered_after_the_delay_and_not_before(phones: Phones) -> None:
    phone = phones()
    first = phone.activate(sim(CUBACEL))
    assert (first.status, first.reason, first.next_checkin_after) == (
        ACTIVATED,
        "ACTIVATION_OK",
        DAY,
    )

    advance(phone.server, DAY)
    assert phone.checkin().status is ACTIVATED
    advance(phone.server, DAY + 23 * HOUR)  # +2d23h
    almost = phone.checkin()
    assert (almost.status, almost.next_checkin_after) == (ACTIVATED, HOUR)

    advance(phone.server, HOUR)  # +3d
    locked = phone.checkin()
    assert (locked.status, locked.reason) == (LOCKED, "EMBARGOED_TERRITORY")
    assert locked.message.startswith(LOCK_MESSAGE_START)
    assert locked.next_checkin_after == DAY  # a locked phone keeps checking in
    assert [v.sequence for v in (first, almost, locked)] == [1, 3, 4]

    advance(phone.server, DAY)
    assert phone.checkin().status is LOCKED


def test_delay_zero_locks_at_activation(tmp_path: Path, factory: Factory) -> None:
    with vendor_server(tmp_path, policy=policy_text(delay(0))) as server:
        verdict = Phones(factory, server)().activate(sim("250-60"))  # Volna, Crimea
    assert (verdict.status, verdict.reason, verdict.policy_version) == (
        LOCKED,
        "EMBARGOED_TERRITORY",
        "test-1",
    )


def test_a_tourist_roaming_on_cubacel_is_never_locked(phones: Phones) -> None:
    tourist = phones()
    assert tourist.activate(sim(TELEKOM)).status is ACTIVATED
    for _ in range(6):  # a fortnight in Havana, checking in every other day
        advance(tourist.server, 2 * DAY)
        verdict = tourist.checkin(sim(TELEKOM, serving=CUBACEL))
        assert (verdict.status, verdict.reason, verdict.next_checkin_after) == (
            ACTIVATED,
            "ACTIVATION_OK",
            DAY,
        )


def test_a_home_cubacel_sim_locks_a_phone_activated_in_germany_after_the_delay(
    phones: Phones,
) -> None:
    phone = phones()
    phone.activate(sim(TELEKOM))
    advance(phone.server, DAY)
    inserted = phone.checkin(sim(CUBACEL, serving=TELEKOM))  # a Cuban visitor's SIM
    assert inserted.status is ACTIVATED
    # Taking it out again does not help (the default policy's flags stick) ...
    advance(phone.server, 2 * DAY)
    assert phone.checkin(sim(TELEKOM)).status is ACTIVATED
    # ... and three days after it was first seen the lock arrives.
    advance(phone.server, DAY)
    locked = phone.checkin()
    assert (locked.status, locked.reason) == (LOCKED, "EMBARGOED_TERRITORY")
    (entry,) = phone.server.store.audit(limit=1)
    assert entry.rule == "embargo:sim:home"


def test_sim_swap_lifts_a_lock_from_the_sim_when_the_policy_allows(
    tmp_path: Path, factory: Factory
) -> None:
    with vendor_server(tmp_path, policy=policy_text(sim_swap_lifts_lock(), delay(0))) as server:
        phones = Phones(factory, server)
        visitor, cuban = phones(), phones()
        visitor.activate(sim(TELEKOM))
        assert visitor.checkin(sim(CUBACEL)).status is LOCKED
        lifted = visitor.checkin(sim(TELEKOM))
        assert (lifted.status, lifted.reason) == (ACTIVATED, "RELEASED")
        # The activation territory still sticks: a phone activated in Cuba stays locked.
        assert cuban.activate(sim(CUBACEL)).status is LOCKED
        assert cuban.checkin(sim(TELEKOM)).status is LOCKED


@pytest.mark.parametrize(
    ("rule", "slot1", "slot2", "status"),
    [
        ("any", TELEKOM, CUBACEL, LOCKED),  # the default: any slot from an embargoed territory
        ("first", TELEKOM, CUBACEL, ACTIVATED),
        ("first", CUBACEL, TELEKOM, LOCKED),
        ("all", TELEKOM, CUBACEL, ACTIVATED),
        ("all", SYRIATEL, CUBACEL, LOCKED),
    ],
)
def test_dual_sim_policy_option(
    tmp_path: Path, factory: Factory, rule: str, slot1: str, slot2: str, status: VerdictStatus
) -> None:
    with vendor_server(tmp_path, policy=policy_text(delay(0), dual_sim(rule))) as server:
        verdict = Phones(factory, server)().activate(sim(slot1, slot=1), sim(slot2, slot=2))
    assert verdict.status is status


def test_region_lock_refuses_a_cn_phone_whose_first_sim_is_not_chinese(
    tmp_path: Path, factory: Factory
) -> None:
    with vendor_server(tmp_path, policy=policy_text(extra=region_lock(CN="first_sim"))) as server:
        phones = Phones(factory, server)
        refused = phones("CN").activate(sim(TELEKOM))
        assert (refused.status, refused.reason) == (LOCKED, "REGION_LOCKED")
        assert "sales region" in refused.message
        chinese = phones("CN")
        assert chinese.activate(sim(CHINA_MOBILE)).status is ACTIVATED
        # The rule is about the first SIM: a German SIM later is fine.
        assert chinese.checkin(sim(TELEKOM)).status is ACTIVATED
        assert phones("MI").activate(sim(TELEKOM)).status is ACTIVATED  # Global: no rule


def test_factory_reset_reactivates_into_the_same_decision(phones: Phones) -> None:
    phone = phones()
    phone.activate(sim(CUBACEL))
    # Reset on day 1 and set up again with a German SIM: the lock date does not move.
    advance(phone.server, DAY)
    again = phone.activate(sim(TELEKOM))
    assert (again.status, again.next_checkin_after) == (ACTIVATED, DAY)
    advance(phone.server, 2 * DAY)
    assert phone.checkin().status is LOCKED
    # Reset a locked phone: the re-activation is locked too, and sequences carry on.
    advance(phone.server, HOUR)
    relocked = phone.activate(sim(TELEKOM))
    assert (relocked.status, relocked.reason, relocked.sequence) == (
        LOCKED,
        "EMBARGOED_TERRITORY",
        4,
    )
    assert len(phone.server.store.activations(phone.serial)) == 3


def test_a_server_restart_keeps_the_pending_lock(tmp_path: Path, factory: Factory) -> None:
    with vendor_server(tmp_path) as server:
        phone = Phones(factory, server)()
        phone.activate(sim(CUBACEL))
        start = now(server)
    with vendor_server(tmp_path) as server:
        advance(server, start + 3 * DAY - now(server))
        phone.server = server
        verdict = phone.checkin()
    assert (verdict.status, verdict.sequence) == (LOCKED, 2)


def test_a_checkin_from_a_device_never_activated_is_decided_as_an_activation(
    tmp_path: Path, factory: Factory
) -> None:
    with vendor_server(tmp_path, policy=policy_text(delay(0))) as server:
        phone = Phones(factory, server)()
        verdict = phone.checkin(sim(CUBACEL))
        (activation,) = server.store.activations(phone.serial)
        (entry,) = server.store.audit(serial=phone.serial)
    assert (verdict.status, verdict.sequence) == (LOCKED, 1)
    assert activation["decision"]["rule"] == "embargo:activation:home"
    assert (entry.kind, entry.inputs["first_contact"]) == ("checkin", True)


def test_an_activation_signature_cannot_be_replayed_as_a_checkin(phones: Phones) -> None:
    phone = phones()
    request = phone.identity.request([sim(TELEKOM)])
    url = phone.server.url
    wire = phone.identity.sign(
        url + ACTIVATION_PATH, request.encode(), created=now(phone.server), nonce=request.nonce
    )
    wire.url = url + CHECKIN_PATH
    response = send(wire)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "signature_invalid"


def test_offline_rule_is_in_every_verdict_when_the_policy_sets_it(
    tmp_path: Path, factory: Factory
) -> None:
    with vendor_server(tmp_path, policy=policy_text(extra=offline(30, 3))) as server:
        phone = Phones(factory, server)()
        verdicts = [phone.activate(sim(TELEKOM)), phone.checkin()]
    for verdict in verdicts:
        assert (verdict.offline_lock_after, verdict.offline_warning_before) == (
            30 * DAY,
            3 * DAY,
        )
