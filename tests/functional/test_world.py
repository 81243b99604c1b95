"""One world, one time: several phones on one vendor, time that only the operator moves, phones
that take their time from the vendor's signed answers (issue 14's failures, each reproduced)."""

from __future__ import annotations

import datetime as dt
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from phone_sim.device.state import DeviceState
from phone_sim.protocol.clock import STORY_START, ClockMode
from phone_sim.protocol.identity import Factory
from phone_sim.scenario.driver import PhoneDriver
from phone_sim.scenario.errors import DriverError
from phone_sim.scenario.world import RemoteServer, ScenarioWorld
from phone_sim.world.world import open_world
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.mitm import Headers, mitm_proxy

DAY = 86_400


@pytest.fixture
def simulated_server(tmp_path: Path) -> Iterator[EmbeddedVendorServer]:
    """Our server, as `make serve-vendor` runs it: its own data directory, simulated time."""
    base = tmp_path / "standalone"
    Factory.open(base / "factory")
    settings = ServerSettings(
        data_dir=base / "vendor", port=0, clock_mode=ClockMode.SIMULATED, clock_speed=0
    )
    with EmbeddedVendorServer(settings) as server:
        yield server


def remote(server: EmbeddedVendorServer, *, token: bool = True) -> RemoteServer:
    return RemoteServer(
        server.url,
        server.vendor_public_key_path,
        server.settings.factory_root_path.parent,
        server.admin_token.value if token else None,
    )


def activate(phone: PhoneDriver, carrier: str) -> None:
    phone.boot()
    phone.insert_sim(1, carrier=carrier)
    phone.activate()
    assert phone.state is DeviceState.ACTIVATED, phone.last_error


def test_two_phones_on_one_vendor_server_share_its_time(
    make_phone: Callable[..., PhoneDriver], vendor_server: EmbeddedVendorServer
) -> None:
    # Before: make_phone(server=vendor_server) failed with AttributeError ('factory_dir').
    cuban = make_phone(server=vendor_server)
    german = make_phone(server=vendor_server)
    assert cuban.serial != german.serial
    activate(cuban, "Cubacel")
    activate(german, "Telekom")
    cuban.advance(days=3)
    assert vendor_server.clock.now() == STORY_START + 3 * DAY
    # The German phone's world is the same vendor's: it is three days on too, and its next
    # contact is neither stale nor locked.
    assert german.phone.clock.now() == STORY_START + 3 * DAY
    german.check_in()
    cuban.check(screen="lock", verdict_reason="EMBARGOED_TERRITORY")
    german.check(screen="home", state="activated")


def test_a_family_of_three_phones_on_one_vendor(world: ScenarioWorld) -> None:
    german, cuban, tourist = world.phone("german"), world.phone("cuban"), world.phone("tourist")
    activate(german, "Telekom")
    activate(cuban, "Cubacel")
    activate(tourist, "Telekom")
    tourist.roam(1, carrier="Cubacel")
    said = world.advance(days=3)
    assert said.startswith("german: 3 check-ins") and "cuban: " in said
    assert [p.screen for p in (german, cuban, tourist)] == ["home", "lock", "home"]
    text, released = world.vendor.release_all("RELEASED")
    assert released == (cuban.serial,), text
    assert cuban.screen == "lock"  # nothing reaches a phone by itself
    world.advance(days=1)
    cuban.check(screen="home", verdict_reason="RELEASED")


@pytest.mark.parametrize(
    "start",
    [STORY_START, int(STORY_START), dt.datetime(2021, 9, 1, 12, tzinfo=dt.UTC),
     dt.datetime(2021, 9, 1, 12), "2021-09-01T12:00:00Z", "2021-09-01T12:00:00+00:00"],
    ids=["float", "int", "aware datetime", "naive datetime (UTC)", "ISO Z", "ISO offset"],
)  # fmt: skip
def test_start_takes_seconds_a_datetime_or_iso(
    make_phone: Callable[..., PhoneDriver], start: object
) -> None:
    assert make_phone(start=start).world.now() == STORY_START


@pytest.mark.parametrize("start", ["yesterday", [2021], True], ids=["words", "list", "bool"])
def test_any_other_start_is_refused_at_the_call(
    make_phone: Callable[..., PhoneDriver], start: object
) -> None:
    with pytest.raises(DriverError, match="start"):
        make_phone(start=start)


def test_a_phone_of_another_world_sees_a_jump_at_its_next_contact(
    tmp_path: Path, simulated_server: EmbeddedVendorServer
) -> None:
    # Before: with hand-built RemoteServers, once one phone advanced time the other's requests
    # were refused as stale. Now each world's phones take the vendor's signed time.
    with (
        ScenarioWorld.open(tmp_path / "a", server=remote(simulated_server)) as operator,
        ScenarioWorld.open(
            tmp_path / "b", server=remote(simulated_server, token=False), seed=1
        ) as far,
    ):
        mover, other = operator.phone(), far.phone()
        activate(mover, "Telekom")
        activate(other, "Cubacel")
        mover.advance(days=3)
        assert other.phone.clock.now() < STORY_START + 3 * DAY  # it has not heard yet
        said = other.check_in()
        assert "locked (EMBARGOED_TERRITORY)" in said, said
        assert other.phone.clock.now() >= STORY_START + 3 * DAY
        # The far world has no admin token: moving time is refused at once, saying why.
        with pytest.raises(DriverError, match="admin token"):
            far.advance(days=1)


def test_a_real_time_vendor_refuses_time_travel_at_once(tmp_path: Path) -> None:
    Factory.open(tmp_path / "real" / "factory")
    settings = ServerSettings(data_dir=tmp_path / "real" / "vendor", port=0)
    with EmbeddedVendorServer(settings) as server:
        assert server.clock.mode is ClockMode.REAL
        with ScenarioWorld.open(tmp_path / "w", server=remote(server)) as world:
            phone = world.phone()
            activate(phone, "Telekom")  # real time: the phone's clock agrees with the vendor's
            before = server.store.counts()
            with pytest.raises(DriverError, match="real time"):
                phone.advance(days=3)
            assert server.store.counts() == before  # refused before anything was asked


def _shift_now(shift: int) -> Callable[[Headers, bytes], tuple[Headers, bytes]]:
    def tamper(headers: Headers, body: bytes) -> tuple[Headers, bytes]:
        if b'"now":' not in body:
            return headers, body
        answer = json.loads(body)
        answer["now"] += shift
        return headers, json.dumps(answer, sort_keys=True, separators=(",", ":")).encode()

    return tamper


def _unsigned(headers: Headers, body: bytes) -> tuple[Headers, bytes]:
    if b'"now":' not in body:
        return headers, body
    return {
        k: v for k, v in headers.items() if k.lower() not in ("signature", "signature-input")
    }, body


@pytest.mark.parametrize("tamper", [_shift_now(30 * DAY), _shift_now(-DAY), _unsigned])
def test_a_man_in_the_middle_cannot_move_a_phones_clock(
    tmp_path: Path,
    simulated_server: EmbeddedVendorServer,
    tamper: Callable[[Headers, bytes], tuple[Headers, bytes]],
) -> None:
    with ScenarioWorld.open(tmp_path / "w", server=remote(simulated_server)) as world:
        phone = world.phone()
        activate(phone, "Telekom")
        before = phone.phone.clock.now()
        floor = phone.phone.clock.floor
        with mitm_proxy(world.proxy.url) as mitm:
            phone.world_phone.client.base_url = mitm.url
            mitm.tamper_response = tamper
            phone.phone.want_time("test")
            outcome = phone.world_phone.sync_time()
        assert not outcome.accepted, outcome
        assert any(path == "/v1/time" for path, *_ in mitm.seen)
        assert abs(phone.phone.clock.now() - before) < 5 and phone.phone.clock.floor == floor
        exchange = phone.phone.exchanges[-1]
        assert exchange.signature in ("invalid", "missing") and exchange.time is None


def test_a_replayed_time_answer_is_refused(
    tmp_path: Path, simulated_server: EmbeddedVendorServer
) -> None:
    with ScenarioWorld.open(tmp_path / "w", server=remote(simulated_server)) as world:
        phone = world.phone()
        phone.boot()
        old = phone.phone.exchanges[-1]
        assert old.time is not None  # the boot's signed time answer
        attempt = phone.phone.begin_time_sync()
        outcome = phone.phone.complete_time_sync(attempt, old)  # the same answer again
        assert not outcome.accepted and "nonce" in outcome.detail


def test_phones_meet_the_fault_proxy_only_once_a_fault_asks_for_it(tmp_path: Path) -> None:
    # docs/decisions/fault-proxy-only-when-asked.md: until then they talk to the vendor.
    with ScenarioWorld.open(tmp_path / "w") as world:
        phone = world.phone()
        activate(phone, "Telekom")
        assert phone.world_phone.client.base_url == world.world.vendor.url
        world.vendor.server_fault("drop")
        assert phone.world_phone.client.base_url == world.proxy.url
        later = world.phone("later")
        assert later.world_phone.client.base_url == world.proxy.url  # phones added after too
        phone.check_in()
        assert "unreachable" in (phone.last_error or "")
        world.vendor.server_fault("none")
        phone.check_in()
        assert phone.last_error is None


def test_the_server_down_and_up_behind_one_address(tmp_path: Path) -> None:
    with ScenarioWorld.open(tmp_path / "w") as world:
        phone = world.phone()
        activate(phone, "Telekom")
        before = world.world.vendor.url
        world.vendor.server_down()
        address = phone.world_phone.client.base_url
        assert address == world.proxy.url != before
        phone.check_in()
        assert "unreachable" in (phone.last_error or "")
        world.vendor.server_up()
        assert phone.world_phone.client.base_url == address
        phone.check_in()
        assert phone.last_error is None


def test_a_world_opened_to_serve_later_queues_a_request_until_it_serves(tmp_path: Path) -> None:
    world = open_world(tmp_path / "w", serve_later=True)
    try:
        assert not world.vendor.running
        url = urlsplit(world.vendor.url)
        with socket.create_connection((url.hostname, url.port), timeout=10) as early:
            # Connected and sent before the server's stack is loaded: the port queues it.
            early.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            world.vendor.serve()
            assert world.vendor.running
            answer = b""
            while chunk := early.recv(4096):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 200")
    finally:
        world.close()
    assert not world.vendor.running


def test_a_world_closed_before_it_served_lets_go_of_its_port_and_store(tmp_path: Path) -> None:
    world = open_world(tmp_path / "w", serve_later=True)
    url = urlsplit(world.vendor.url)
    world.close()
    with pytest.raises(OSError):
        socket.create_connection((url.hostname, url.port), timeout=5).close()
    again = open_world(tmp_path / "w")  # the store and the clock open again at once
    try:
        assert again.vendor.running
    finally:
        again.close()
