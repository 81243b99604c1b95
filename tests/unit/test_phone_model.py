"""The device model on its own: states, SIM tray, calls, verdict judgement, persistence."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.device.errors import (
    CorruptStateError,
    SlotError,
    TransitionRefused,
    UnknownCatalogueEntry,
)
from phone_sim.device.exchange import Exchange
from phone_sim.device.phone import ActivationAttempt, Phone
from phone_sim.device.provisioning import provision
from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import Activation, DeviceState
from phone_sim.device.storage import DeviceStorage
from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.imei import is_valid_imei
from phone_sim.protocol.keys import public_key_pem
from phone_sim.protocol.messages import Verdict, VerdictStatus

START = 1630497600.0


@pytest.fixture(scope="module")
def factory() -> Factory:
    return Factory.create()


@pytest.fixture
def storage(tmp_path: Path, factory: Factory) -> DeviceStorage:
    vendor = ed25519.Ed25519PrivateKey.generate().public_key()
    return provision(tmp_path / "phone", factory, public_key_pem(vendor), rng=random.Random(7))


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def phone(storage: DeviceStorage, clock: FixedClock) -> Phone:
    return Phone.load(storage, clock=clock, rng=random.Random(1))


def boot(phone: Phone) -> None:
    phone.power_on()
    phone.finish_boot()


def verdict_for(phone: Phone, attempt: ActivationAttempt, **changes: object) -> Verdict:
    fields: dict[str, object] = {
        "device_serial": phone.identity.serial,
        "imei": phone.identity.imeis[0],
        "status": VerdictStatus.LOCKED,
        "reason": "EMBARGOED_TERRITORY",
        "message": "Xiaomi policy does not permit sale or provision of the product",
        "nonce": attempt.nonce,
        "issued_at": int(phone.clock.now()),
        "expires_at": int(phone.clock.now()) + 3600,
        "sequence": phone.persisted.last_sequence + 1,
        "policy_version": "test",
    }
    fields.update(changes)
    return Verdict.model_validate(fields)


def answer(attempt: ActivationAttempt, verdict: Verdict | None) -> Exchange:
    return Exchange(
        kind=attempt.kind,
        url="http://127.0.0.1:1/v1/activation",
        request_headers={},
        request_body=attempt.request.encode(),
        sent_at=START,
        status=200,
        response_body=b"{}" if verdict is None else verdict.encode(),
        verdict=verdict,
        signature="valid",
        error=None if verdict else "no verdict",
        error_code=None if verdict else "unsigned",
    )


def test_provisioned_identity_is_plausible(phone: Phone) -> None:
    ident = phone.identity
    assert len(ident.imeis) == 2 and all(is_valid_imei(i) for i in ident.imeis)
    assert ident.imeis[0][:8] == ident.imeis[1][:8] == "86010505"  # Redmi Note 9 TAC
    assert ident.firmware == "V12.0.4.0.QJOMIXM"


def test_boot_goes_to_setup_and_refuses_out_of_order_actions(phone: Phone) -> None:
    assert phone.state is DeviceState.OFF
    with pytest.raises(TransitionRefused, match="cannot finish booting while off"):
        phone.finish_boot()
    with pytest.raises(TransitionRefused):
        phone.begin_activation()
    boot(phone)
    assert phone.state is DeviceState.SETUP
    with pytest.raises(TransitionRefused):
        phone.power_on()


def test_sim_tray_insert_remove_swap_and_roaming(phone: Phone) -> None:
    boot(phone)
    telekom = Sim.of(carrier("Telekom"))
    phone.insert_sim(1, telekom)
    with pytest.raises(SlotError, match="already holds Telekom"):
        phone.insert_sim(1, Sim.of(carrier("Cubacel")))
    phone.insert_sim(2, Sim.of(carrier("Cubacel")))
    phone.swap_sims()
    assert phone.slot(1).sim is not None and phone.slot(1).sim.label == "Cubacel"
    assert phone.slot(2).sim == telekom
    phone.roam(2, carrier("Cubacel"))
    assert phone.slot(2).roaming and phone.slot(2).serving == carrier("Cubacel")
    request = phone.build_request("n" * 22)
    slot2 = next(s for s in request.sims if s.slot == 2)
    assert (slot2.home, slot2.serving, slot2.roaming) == ("262-01", "368-01", True)
    assert phone.remove_sim(1).label == "Cubacel"
    with pytest.raises(SlotError, match="slot 1 is empty"):
        phone.remove_sim(1)
    with pytest.raises(SlotError, match="no SIM slot 3"):
        phone.slot(3)


def test_custom_sim_any_mcc_mnc() -> None:
    sim = Sim.custom("250", "60")
    assert sim.label == "Volna" and sim.imsi.startswith("25060") and len(sim.imsi) == 15
    odd = Sim.custom("722", "310")
    assert odd.home.code == "722-310" and odd.iccid.startswith("89")


def test_locked_verdict_locks_and_survives_reboot(
    phone: Phone, storage: DeviceStorage, clock: FixedClock
) -> None:
    boot(phone)
    phone.insert_sim(1, Sim.of(carrier("Cubacel")))
    attempt = phone.begin_activation()
    assert phone.state is DeviceState.ACTIVATING
    outcome = phone.complete_activation(attempt, answer(attempt, verdict_for(phone, attempt)))
    assert outcome.accepted and phone.state is DeviceState.LOCKED
    phone.reboot()
    phone.finish_boot()
    assert phone.state is DeviceState.LOCKED
    # a new Phone object on the same data dir (a real power cycle) also boots locked
    again = Phone.load(storage, clock=clock)
    boot(again)
    assert again.state is DeviceState.LOCKED
    assert again.lock_reason == "EMBARGOED_TERRITORY"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"device_serial": "OTHERDEVICE1"}, "for device OTHERDEVICE1"),
        ({"imei": "490154203237518"}, "names IMEI"),
        ({"nonce": "A" * 22}, "nonce mismatch"),
        ({"sequence": 5}, "replay"),
        ({"sequence": 4}, "replay"),
        ({"expires_at": int(START) - 1}, "expired"),
        ({"issued_at": int(START) + 3600}, "in the future"),
    ],
)
def test_verdicts_that_must_not_change_state(
    phone: Phone, change: dict[str, object], why: str
) -> None:
    boot(phone)
    phone.insert_sim(1, Sim.of(carrier("Telekom")))
    first = phone.begin_activation()
    ok = verdict_for(
        phone, first, status=VerdictStatus.ACTIVATED, reason="ACTIVATION_OK", sequence=5
    )
    assert phone.complete_activation(first, answer(first, ok)).accepted
    before = phone.persisted
    attempt = phone.begin_activation()
    verdict = verdict_for(phone, attempt, **change)
    outcome = phone.complete_activation(attempt, answer(attempt, verdict))
    assert not outcome.accepted and why in outcome.detail
    assert phone.state is DeviceState.ACTIVATED and phone.persisted == before
    assert phone.last_error is not None and phone.last_error.startswith("Activation server error")


def test_old_activated_verdict_replayed_to_a_locked_phone_is_refused(phone: Phone) -> None:
    boot(phone)
    first = phone.begin_activation()
    activated = verdict_for(phone, first, status=VerdictStatus.ACTIVATED, reason="ACTIVATION_OK")
    assert phone.complete_activation(first, answer(first, activated)).accepted
    second = phone.begin_activation()
    assert phone.complete_activation(second, answer(second, verdict_for(phone, second))).accepted
    assert phone.state is DeviceState.LOCKED
    # the attacker replays the first answer (right nonce for nothing, old sequence)
    third = phone.begin_activation()
    assert not phone.complete_activation(third, answer(third, activated)).accepted
    assert phone.state is DeviceState.LOCKED


def test_failed_activation_returns_to_setup_with_error(phone: Phone) -> None:
    boot(phone)
    attempt = phone.begin_activation()
    outcome = phone.complete_activation(attempt, answer(attempt, None))
    assert not outcome.accepted
    assert phone.state is DeviceState.SETUP and phone.activation is Activation.NONE


def test_answer_after_reboot_is_ignored(phone: Phone) -> None:
    boot(phone)
    attempt = phone.begin_activation()
    phone.reboot()
    phone.finish_boot()
    assert not phone.complete_activation(
        attempt, answer(attempt, verdict_for(phone, attempt))
    ).accepted
    assert phone.state is DeviceState.SETUP


def test_emergency_calls_work_when_locked(phone: Phone) -> None:
    boot(phone)
    phone.insert_sim(1, Sim.of(carrier("Cubacel")))
    attempt = phone.begin_activation()
    phone.complete_activation(attempt, answer(attempt, verdict_for(phone, attempt)))
    assert phone.dial("112").placed and phone.active_call == "112"
    phone.hang_up()
    assert phone.dial("911").placed
    refused = phone.dial("+4930123456")
    assert not refused.placed and "emergency" in refused.detail
    assert not phone.dial("110").placed  # 110 is an emergency number only without a SIM
    phone.remove_sim(1)
    assert phone.dial("110").placed


def test_corrupt_state_file_is_reported_not_reset(
    storage: DeviceStorage, clock: FixedClock
) -> None:
    storage.state_path.write_text('{"version": 1, "activation": "locked", "last_seq')
    with pytest.raises(CorruptStateError) as info:
        Phone.load(storage, clock=clock)
    assert info.value.path == storage.state_path
    assert "state.json" in str(info.value)
    assert storage.state_path.read_text().startswith(
        '{"version": 1'
    )  # left for the user to inspect


def test_key_written_0600(storage: DeviceStorage) -> None:
    assert storage.key_path.stat().st_mode & 0o777 == 0o600
    assert (
        storage.state_path.exists() is False or storage.state_path.stat().st_mode & 0o777 == 0o600
    )


def test_an_unknown_carrier_is_refused_with_the_nearest_name() -> None:
    with pytest.raises(UnknownCatalogueEntry) as near:
        carrier("Cubacell")
    assert "unknown carrier 'Cubacell'; did you mean 'Cubacel'? (known: Telekom" in str(near.value)
    with pytest.raises(UnknownCatalogueEntry) as far:
        carrier("Xyz")
    assert str(far.value).startswith("unknown carrier 'Xyz' (known: Telekom")
