"""The real phone client and device model against a vendor that lies, over real HTTP on loopback.

A locked phone asks its vendor again; the answer comes from :mod:`tests.support.hostile_vendor`,
which sends whatever each test says. Every answer below must be refused the same way: the phone
stays locked, nothing it stored changes (state file included), and it shows "Activation server
error". ``test_a_fresh_valid_signed_release_unlocks`` plays the honest vendor through the same
rig and shows a fresh, valid, signed release does unlock it: the refusals are not the harness
refusing everything. The last tests put a man in the middle (``tests/support/mitm.py``) and the
scenarios' fault proxy (``phone_sim.faults``) in front of the real vendor server.

The model-level versions of the verdict checks are in ``tests/unit/test_phone_model.py``; the
corrupt-then-verify sweeps of every byte are in
``tests/unit/test_protocol_vectors_tampering.py``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from phone_sim.client.vendor_client import VendorClient
from phone_sim.device.phone import Phone
from phone_sim.device.provisioning import provision
from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import Activation, DeviceState
from phone_sim.faults import FaultMode, FaultProxy
from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.keys import public_key_pem
from phone_sim.protocol.messages import VerdictStatus
from tests.support.hostile_answers import (
    ATTACKS,
    DAY,
    HOUR,
    START,
    TIMEOUT,
    VENDOR_KEY,
    Rig,
)
from tests.support.hostile_vendor import (
    Reply,
    SeenRequest,
    hostile_vendor,
)
from tests.support.mitm import Headers, mitm_proxy, untouched
from tests.support.one_phone import OnePhoneWorld


@pytest.fixture(scope="module")
def factory() -> Factory:
    return Factory.create()


@pytest.fixture
def rig(tmp_path: Path, factory: Factory) -> Iterator[Rig]:
    storage = provision(
        tmp_path / "phone",
        factory,
        public_key_pem(VENDOR_KEY.public_key()),
        rng=random.Random(5),
    )
    clock = FixedClock(START)
    phone = Phone.load(storage, clock=clock, rng=random.Random(6))
    with hostile_vendor() as vendor:
        client = VendorClient(
            base_url=vendor.url,
            device_key=storage.load_key(),
            device_serial=phone.identity.serial,
            vendor_key=storage.load_vendor_key(),
            clock=clock,
            timeout=TIMEOUT,
        )
        yield Rig(phone, client, storage, clock, vendor)


@pytest.fixture
def locked(rig: Rig) -> Rig:
    """The rig's phone, activated into a lock by the genuine vendor (sequence 1)."""
    rig.phone.power_on()
    rig.phone.finish_boot()
    outcome = rig.ask(
        lambda request: rig.honest(
            request, status=VerdictStatus.LOCKED, reason="EMBARGOED_TERRITORY", message="Locked"
        )
    )
    assert outcome.accepted and rig.phone.state is DeviceState.LOCKED
    rig.clock.advance(3600)
    return rig


@pytest.mark.parametrize("name", list(ATTACKS))
def test_a_locked_phone_refuses_a_bad_answer_and_changes_nothing(locked: Rig, name: str) -> None:
    make_reply, code = ATTACKS[name]
    rig = locked
    before = rig.phone.persisted
    on_disk = rig.storage.state_path.read_bytes()
    started = time.monotonic()

    outcome = rig.ask(lambda request: make_reply(rig, request))

    exchange = rig.phone.exchanges[-1]
    assert not outcome.accepted
    if code == "verdict_rejected":  # genuine signature: the client passes it, the phone refuses
        assert exchange.signature == "valid" and exchange.error_code is None
        assert outcome.detail.startswith("verdict rejected"), outcome.detail
    else:
        assert exchange.error_code == code, exchange.error
    # Bounded, even for the slow attacks (a drip held the client 53 s before the deadline).
    assert time.monotonic() - started < TIMEOUT + 4
    assert rig.phone.state is DeviceState.LOCKED
    assert rig.phone.persisted == before
    assert rig.storage.state_path.read_bytes() == on_disk
    assert rig.phone.last_error is not None
    assert rig.phone.last_error.startswith("Activation server error")


def test_an_endless_answer_is_read_only_up_to_the_limit(locked: Rig) -> None:
    # The vendor would send 256 MiB; the phone stops after its 16 KiB limit, so no more than
    # the loopback socket buffers could hold got out before the vendor found nobody reading.
    attack, _ = ATTACKS["huge body, chunked, endless"]
    outcome = locked.ask(lambda request: attack(locked, request))
    assert not outcome.accepted and locked.phone.exchanges[-1].error_code == "response_too_large"
    assert locked.vendor.sent < 32 * 1024 * 1024


def test_a_fresh_valid_signed_release_unlocks(locked: Rig) -> None:
    # The control: the same rig, the same phone, an honest answer.
    outcome = locked.ask(lambda request: locked.honest(request))
    assert outcome.accepted, locked.phone.last_error
    assert locked.phone.state is DeviceState.ACTIVATED
    assert locked.phone.persisted.activation is Activation.ACTIVATED
    assert locked.phone.persisted.last_sequence == 2


def test_a_recorded_answer_replayed_later_is_refused(locked: Rig) -> None:
    # The attacker recorded the release that unlocked the phone once...
    recorded: list[Reply] = []

    def release(request: SeenRequest) -> Reply:
        recorded.append(locked.honest(request))
        return recorded[-1]

    assert locked.ask(release).accepted
    assert locked.ask(
        lambda request: locked.honest(
            request, status=VerdictStatus.LOCKED, reason="INVESTIGATION_HOLD"
        )
    ).accepted
    assert locked.phone.state is DeviceState.LOCKED
    # ... and replays it, byte for byte, to the phone locked again since.
    outcome = locked.ask(lambda request: recorded[0])
    assert not outcome.accepted and "nonce" in outcome.detail
    assert locked.phone.state is DeviceState.LOCKED


# --- through the real vendor, with a man in the middle ------------------------------------------


def test_an_old_activated_verdict_replayed_to_a_phone_locked_since_is_refused(
    sim: OnePhoneWorld,
) -> None:
    """The story's attack: keep the "activated" answer from day one, replay it once locked."""
    assert sim.server is not None and sim.admin is not None
    recorded: list[tuple[Headers, bytes]] = []

    def record(headers: Headers, body: bytes) -> tuple[Headers, bytes]:
        recorded.append((dict(headers), body))
        return headers, body

    with mitm_proxy(sim.server.url) as mitm:
        sim.client.base_url = mitm.url
        mitm.tamper_response = record
        sim.phone.power_on()
        sim.phone.finish_boot()
        sim.phone.insert_sim(1, Sim.of(carrier("Cubacel")))
        assert sim.activate().accepted and sim.phone.state is DeviceState.ACTIVATED
        first_activated = recorded[0]
        assert b'"status":"activated"' in first_activated[1]
        sim.advance(3 * DAY + HOUR)  # the genuine vendor locks it at a check-in
        assert sim.phone.state is DeviceState.LOCKED
        locked_state = sim.phone.persisted

        mitm.tamper_response = lambda headers, body: first_activated
        outcome = sim.activate()
        assert not outcome.accepted
        assert "nonce" in outcome.detail  # the replayed verdict answers another request
        assert sim.phone.exchanges[-1].signature == "valid"  # the vendor did sign it, once
        assert sim.phone.state is DeviceState.LOCKED and sim.phone.persisted == locked_state
        assert (sim.phone.last_error or "").startswith("Activation server error")

        # Only the vendor's fresh answer to a new request, after an operator's release, unlocks.
        sim.admin.release(sim.phone.identity.serial, reason="cleared")
        mitm.tamper_response = untouched
        assert sim.activate().accepted
        assert sim.phone.state is DeviceState.ACTIVATED and sim.phone.lock_reason == "RELEASED"


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        (FaultMode.TAMPERED, "signature_invalid"),
        (FaultMode.REPLAY, None),  # the vendor's own signature, on an answer to another request
        (FaultMode.GARBAGE, "unsigned"),
        (FaultMode.DROP, "unreachable"),
        (FaultMode.SLOW, "timeout"),
    ],
)
def test_each_fault_proxy_mode_leaves_a_locked_phone_locked(
    sim: OnePhoneWorld, mode: FaultMode, code: str | None
) -> None:
    """The fault-injection proxy that scenarios use (``phone_sim.faults``), on a locked phone."""
    assert sim.server is not None
    with FaultProxy(sim.server.url) as proxy:
        sim.client.base_url = proxy.url
        sim.client.timeout = TIMEOUT
        sim.phone.power_on()
        sim.phone.finish_boot()
        sim.phone.insert_sim(1, Sim.of(carrier("Cubacel")))
        assert sim.activate().accepted
        sim.advance(3 * DAY + HOUR)
        assert sim.phone.state is DeviceState.LOCKED
        locked_state = sim.phone.persisted

        proxy.set_fault(mode, delay=TIMEOUT * 2)
        outcome = sim.activate()
        assert not outcome.accepted
        assert sim.phone.exchanges[-1].error_code == code, sim.phone.exchanges[-1].error
        assert sim.phone.state is DeviceState.LOCKED and sim.phone.persisted == locked_state
        assert (sim.phone.last_error or "").startswith("Activation server error")
