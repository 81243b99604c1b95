"""Embedded servers of one process share one event loop and one app, each with its own world.

``server_stub.runtime.host`` and ``server_stub.api.app.shared_app``
(docs/decisions/one-loop-for-embedded-servers.md, docs/decisions/one-app-per-process.md): what a
test's world needs of them is that nothing crosses from one server to another, that each still
is a real HTTP server on its own loopback port, and that stopping one stops only that one.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import anyio.to_thread
import pytest
import requests
from fastapi.routing import APIRoute

from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.contact import ACTIVATION_PATH, CHECKIN_PATH
from phone_sim.protocol.identity import Factory
from server_stub.admin.client import AdminClient
from server_stub.api.routes import contact
from server_stub.api.routes.contact import DeviceRoute
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime import host
from server_stub.runtime.embedded import EmbeddedServerError, EmbeddedVendorServer
from server_stub.runtime.host import ServerHost
from server_stub.runtime.sockets import bind_socket
from tests.support.signed_client import SEPT_2021, sim
from tests.support.vendor import TELEKOM, Phones, TestPhone, vendor_server

DAY = 86_400


def _clock_of(server: EmbeddedVendorServer) -> float:
    with AdminClient(server.url, server.admin_token.value) as admin:
        return admin.clock().now


def test_two_servers_share_the_app_and_keep_their_worlds_apart(tmp_path: Path) -> None:
    factory = Factory.open(tmp_path / "factory")
    first_clock, second_clock = FixedClock(SEPT_2021), FixedClock(SEPT_2021 + 30 * DAY)
    with (
        vendor_server(tmp_path, clock=first_clock, data="first") as first,
        vendor_server(tmp_path, clock=second_clock, data="second") as second,
    ):
        assert first.app is second.app  # one app for the process
        assert first.url != second.url  # each its own socket
        # Each request finds its own server's world: time, keys and records.
        assert _clock_of(first) == SEPT_2021
        assert _clock_of(second) == SEPT_2021 + 30 * DAY
        assert first.context.vendor_key.key_id != second.context.vendor_key.key_id
        phone = Phones(factory, first)()
        phone.activate(sim(TELEKOM))  # the verdict verifies with the first server's key
        assert first.store.device(phone.serial) is not None
        assert second.store.device(phone.serial) is None
        stranger = TestPhone(second, phone.identity)
        stranger.activate(sim(TELEKOM))  # the same device is new to the second world
        assert second.store.device(phone.serial) is not None


def _serving_one_idle_connection(data: Path) -> tuple[EmbeddedVendorServer, requests.Session]:
    """A started server and a session whose kept-alive connection to it is open and idle."""
    server = EmbeddedVendorServer(
        ServerSettings(data_dir=data, port=0), clock=FixedClock(SEPT_2021)
    ).start()
    kept_alive = requests.Session()
    assert kept_alive.get(server.url + "/v1/health", timeout=5).status_code == 200
    return server, kept_alive


def test_stopping_one_server_leaves_the_other_serving(tmp_path: Path) -> None:
    Factory.open(tmp_path / "factory")
    with vendor_server(tmp_path, data="kept") as kept:
        stopped, kept_alive = _serving_one_idle_connection(tmp_path / "stopped")
        url = stopped.url
        stopped.stop()
        assert not stopped.running
        # The kept-alive connection was closed with the server, and the port takes no other.
        with pytest.raises(requests.ConnectionError):
            kept_alive.get(url + "/v1/health", timeout=5)
        with pytest.raises(requests.ConnectionError):
            requests.get(url + "/v1/health", timeout=5)
        assert requests.get(kept.url + "/v1/health", timeout=5).status_code == 200
        assert kept.running


def test_a_stop_with_an_idle_connection_open_does_not_wait_for_a_poll(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A test's world stops its server with its phone's kept-alive connection open and idle:
    # that connection is gone one turn of the loop after the stop closes it, so the stop must
    # not sleep its 2 ms poll for it (docs/decisions/cubacel-story-accounting.md).
    Factory.open(tmp_path / "factory")
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def sleep(delay: float, *args: Any) -> Any:
        waits.append(delay)
        return await real_sleep(delay, *args)

    server, kept_alive = _serving_one_idle_connection(tmp_path / "vendor")
    url = server.url
    monkeypatch.setattr(asyncio, "sleep", sleep)  # what host.py calls
    server.stop()
    assert not server.running
    assert waits and host._DRAIN_POLL not in waits  # it looked, and never polled
    with pytest.raises(requests.ConnectionError):
        kept_alive.get(url + "/v1/health", timeout=5)


def test_a_server_that_cannot_listen_fails_alone(tmp_path: Path) -> None:
    Factory.open(tmp_path / "factory")
    with vendor_server(tmp_path, data="serving") as serving:
        taken = bind_socket("127.0.0.1", 0)
        taken.listen()
        try:
            port = taken.getsockname()[1]
            clash = EmbeddedVendorServer(
                ServerSettings(data_dir=tmp_path / "clash", port=port), clock=FixedClock(SEPT_2021)
            )
            with pytest.raises((OSError, EmbeddedServerError)):
                clash.start()
            clash.stop()
        finally:
            taken.close()
        assert requests.get(serving.url + "/v1/health", timeout=5).status_code == 200


def test_worker_threads_outlive_the_requests_that_started_them() -> None:
    """Blocking work of one request after another reuses the loop's worker thread: under
    ``run_forever`` anyio tied each thread to the request task that started it, so every
    request made a thread and ended it (docs/decisions/worker-threads-outlive-requests.md)."""
    host = ServerHost.shared()

    async def worker() -> threading.Thread:  # as a route's run_in_threadpool, in its own task
        return await anyio.to_thread.run_sync(threading.current_thread)

    threads = [host.submit(worker()).result(timeout=30) for _ in range(10)]
    # One thread, or two if another server of this process took the idle one meanwhile.
    assert len(set(threads)) <= 2, f"{len(set(threads))} threads for 10 requests one at a time"


def test_device_routes_call_their_endpoint_without_fastapis_request_handler() -> None:
    """The activation and check-in routes are documented by FastAPI but called as plain
    endpoints: FastAPI's per-request handler (dependencies, query string, cookies) is work
    they do not need (docs/decisions/activation-cpu-accounting.md); their schema is checked by
    ``test_server_schema``."""
    routes = {
        route.path: route
        for route in contact.router.routes  # what the app serves: the router itself
        if isinstance(route, APIRoute) and route.path in (ACTIVATION_PATH, CHECKIN_PATH)
    }
    assert set(routes) == {ACTIVATION_PATH, CHECKIN_PATH}
    for route in routes.values():
        assert isinstance(route, DeviceRoute)
        assert route.get_route_handler() is route.endpoint
