"""Unblock codes end to end: a real phone, a real vendor server, its admin API and CLI.

The phone is locked by the real vendor (Cubacel, three days), then cut off; the operator makes
the code for the challenge on its lock screen through the admin CLI or API, and the phone
checks it with its own key. A code for another phone or another challenge unlocks nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
import requests

from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import DeviceState
from phone_sim.device.unblock import PER_DAY, UNBLOCKED_REASON
from phone_sim.faults import FaultMode, FaultProxy
from phone_sim.protocol.identity import Factory
from server_stub.cli import main
from tests.support.one_phone import OnePhoneWorld
from tests.support.signed_client import DeviceIdentity, post_activation
from tests.support.signed_client import sim as sim_report

DAY = 86400


def locked(one: OnePhoneWorld) -> OnePhoneWorld:
    one.phone.power_on()
    one.phone.finish_boot()
    one.phone.insert_sim(1, Sim.of(carrier("Cubacel")))
    assert one.activate().accepted
    one.advance(3 * DAY)
    assert one.phone.state is DeviceState.LOCKED
    return one


def admin_cli(one: OnePhoneWorld, capsys: pytest.CaptureFixture[str], *args: str) -> str:
    server = one.server
    assert server is not None
    options = ["--url", server.url, "--token-file", str(server.admin_token.path)]
    capsys.readouterr()
    assert main(["admin", *options, *args]) == 0
    return capsys.readouterr().out


def test_the_admin_cli_makes_the_code_and_the_phone_takes_it_offline(
    sim: OnePhoneWorld, capsys: pytest.CaptureFixture[str]
) -> None:
    one = locked(sim)
    with FaultProxy(one.client.base_url).start() as cut_off:
        one.client.base_url = cut_off.url
        cut_off.set_fault(FaultMode.DROP)  # the phone cannot reach its vendor any more
        challenge = one.phone.unblock_challenge
        assert challenge is not None
        spaced = f"{challenge[:4]} {challenge[4:]}"
        out = admin_cli(one, capsys, "unblock-code", one.phone.identity.serial, spaced)
        assert f"for challenge {spaced}" in out and "released" in out
        made = json.loads(
            admin_cli(one, capsys, "--json", "unblock-code", one.phone.identity.serial, challenge)
        )
        assert made["challenge"] == challenge and made["purpose"] == "release"
        code = made["code"]
        assert f"{code[:4]} {code[4:]}" in out  # the same code both times: it is derived
        outcome = one.phone.enter_unblock_code(code)
        assert outcome.unlocked and one.phone.state is DeviceState.ACTIVATED
        assert one.phone.lock_reason == UNBLOCKED_REASON
        one.run_due()  # it tries to check in: the vendor is out of reach, it stays unlocked
        assert one.phone.state is DeviceState.ACTIVATED
        # Back in contact: the vendor honours the release the code stood for.
        cut_off.set_fault(FaultMode.NONE)
        one.phone.retry()
        (answer,) = one.run_due()
        assert answer.accepted and one.phone.lock_reason == "RELEASED"
    audit = one.admin.audit(limit=50).entries  # type: ignore[union-attr]
    made_entries = [e for e in audit if e.kind == "unblock-code"]
    assert [e.inputs["challenge"] for e in made_entries] == [challenge, challenge]
    assert all(code not in json.dumps(e.model_dump()) for e in audit)  # never the code itself


def test_a_code_unlocks_only_its_phone_and_its_challenge(
    make_sim: Callable[..., OnePhoneWorld],
) -> None:
    one = locked(make_sim())
    other = one.world.add_phone("other", new=True)
    other.phone.power_on()
    other.phone.finish_boot()
    other.phone.insert_sim(1, Sim.of(carrier("Cubacel")))
    assert other.activate().accepted
    one.advance(3 * DAY)
    assert other.phone.state is DeviceState.LOCKED
    admin = one.admin
    assert admin is not None
    mine = one.phone.unblock_challenge or ""
    theirs = other.phone.unblock_challenge or ""
    # The other phone's code for the other phone's challenge, typed here: refused.
    assert not one.phone.enter_unblock_code(
        admin.unblock_code(other.phone.identity.serial, theirs).code
    ).unlocked
    # The other phone's code for this phone's challenge: refused (another device's secret).
    assert not one.phone.enter_unblock_code(
        admin.unblock_code(other.phone.identity.serial, mine).code
    ).unlocked
    # This phone's code for another challenge: refused.
    another = f"{(int(mine) + 1) % 10**8:08d}"
    assert not one.phone.enter_unblock_code(
        admin.unblock_code(one.phone.identity.serial, another).code
    ).unlocked
    assert one.phone.state is DeviceState.LOCKED
    assert one.phone.unblock_attempts_left() == PER_DAY - 3
    # And the right one does.
    assert one.phone.enter_unblock_code(
        admin.unblock_code(one.phone.identity.serial, mine).code
    ).unlocked
    assert other.phone.state is DeviceState.LOCKED


def test_the_admin_api_refuses_what_makes_no_code(sim: OnePhoneWorld) -> None:
    one = locked(sim)
    server = one.server
    assert server is not None
    headers = {"Authorization": f"Bearer {server.admin_token.value}"}
    serial = one.phone.identity.serial

    def post(ident: str, body: object) -> tuple[int, str]:
        response = requests.post(
            f"{server.url}/admin/devices/{ident}/unblock-code",
            json=body,
            headers=headers,
            timeout=5,
        )
        return response.status_code, response.json()["error"]["code"]

    before = server.store.counts()
    assert post(serial, {"challenge": "1234"}) == (400, "malformed_request")
    assert post(serial, {"challenge": "abcdefgh"}) == (400, "malformed_request")
    assert post(serial, {"challenge": "12345678", "extra": 1}) == (400, "malformed_request")
    assert post("NOSUCHDEVICE1", {"challenge": "12345678"}) == (404, "device_not_found")
    # A phone that only ever spoke version 1 holds no secret: no code can be made for it.
    v1 = DeviceIdentity.issue(Factory.open(one.data_dir / "factory"))
    response = post_activation(
        server.url, v1, v1.request([sim_report("262-01")]), created=int(one.clock.now())
    )
    assert response.status_code == 200 and json.loads(response.content)["protocol"] == 1
    counted = server.store.counts()
    assert post(v1.claims.serial, {"challenge": "12345678"}) == (409, "no_unblock_key")
    assert server.store.counts() == counted  # refusals write nothing
    assert before["device_keys"] == counted["device_keys"] == 1  # only the version 2 phone's
    # No token, no code.
    anonymous = requests.post(
        f"{server.url}/admin/devices/{serial}/unblock-code",
        json={"challenge": "12345678"},
        timeout=5,
    )
    assert anonymous.status_code == 401
