"""Stalled, trickling and surplus connections against a real server (``runtime/connections``).

A request has ``request_timeout`` seconds to arrive whole, however it trickles in; a connection
over the cap takes the place of the one that has waited longest for its request, or, when every
connection has a request being answered, is refused with 503. Thousands of stalled connections
used to be held forever until the process ran out of file descriptors and stopped answering,
``/v1/health`` included.
"""

from __future__ import annotations

import fcntl
import os
import resource
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.connections import HttpParser
from server_stub.runtime.embedded import EmbeddedVendorServer
from server_stub.runtime.processes import ServerProcesses
from tests.support.raw_http import RawAnswer, address, connect, ended, parse, read_to_end
from tests.support.signed_client import SEPT_2021, DeviceIdentity, post_activation, session, sim
from tests.support.vendor import settings_in_a_process

HEAD = b"POST /v1/activation HTTP/1.1\r\nHost: vendor\r\n"
#: what each kind of stalled client sent before falling silent
STALLS = {
    "half a header block": HEAD,
    "headers, half a body": HEAD + b"Content-Length: 100\r\n\r\n{",
    "nothing": b"",
}


def _embedded(tmp_path: Path, **settings: object) -> EmbeddedVendorServer:
    parser: HttpParser = settings.pop("http_parser", "auto")  # type: ignore[assignment]
    config = ServerSettings(data_dir=tmp_path / "vendor", port=0, **settings)  # type: ignore[arg-type]
    return EmbeddedVendorServer(
        config, clock=FixedClock(SEPT_2021), http_parser=parser, log_level="critical"
    )


def _assert_408(data: bytes, why: str = "did not arrive within") -> None:
    answer = parse(data)
    assert answer is not None and answer.status == 408, data
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()["error"]
    assert error["code"] == "request_timeout"
    assert why in error["message"], error  # which of the two: its deadline, or the cap


@contextmanager
def _write_turn_held(data_dir: Path) -> Iterator[None]:
    """Hold the store's write turn, as another server process committing would: a contact
    arrives whole and then waits in the store, its request being answered."""
    fd = os.open(data_dir / "vendor.db.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@pytest.mark.parametrize("parser", ["httptools", "h11"])
def test_a_request_trickling_in_is_cut_at_its_deadline(
    tmp_path: Path, factory: Factory, parser: HttpParser
) -> None:
    with _embedded(tmp_path, request_timeout=1.0, http_parser=parser) as server:
        socks = {kind: connect(server.url) for kind in (*STALLS, "a byte every 0.1 s")}
        started = time.monotonic()
        for kind, sent in STALLS.items():
            socks[kind].sendall(sent)
        trickle = socks["a byte every 0.1 s"]
        trickled = b""
        for byte in (
            HEAD + b"X-Slow: " + b"a" * 40
        ):  # each byte arrives well within any per-read timeout
            try:
                trickle.sendall(bytes([byte]))
            except OSError:
                break  # closed on us: the deadline passed
            trickled += bytes([byte])
            time.sleep(0.1)
        results = {kind: ended(sock, timeout=3) for kind, sock in socks.items()}
        elapsed = time.monotonic() - started
        for kind, (data, closed) in results.items():
            assert closed, kind
            if kind == "nothing":
                assert data == b"", data  # nothing was asked: closed without an answer
            else:
                _assert_408(data)
        assert 1.0 <= elapsed < 4.5
        assert len(trickled) < len(HEAD) + 48  # it was cut before it finished
        # The server itself is fine: a request sent whole is answered.
        assert session().get(server.url + "/v1/health", timeout=5).status_code == 200


def test_the_time_spent_answering_does_not_count(tmp_path: Path, factory: Factory) -> None:
    device = DeviceIdentity.issue(factory)
    with _embedded(tmp_path, request_timeout=0.5) as server:
        answers = []
        with _write_turn_held(server.settings.data_dir):
            worker = threading.Thread(
                target=lambda: answers.append(
                    post_activation(server.url, device, device.request([sim("262-01")]))
                )
            )
            worker.start()
            time.sleep(1.5)  # three deadlines, the request whole and waiting in the store
        worker.join(10)
    assert [a.status_code for a in answers] == [200], [a.text for a in answers]


def test_over_the_cap_a_newcomer_takes_the_place_of_the_longest_stalled(
    tmp_path: Path, factory: Factory
) -> None:
    with _embedded(tmp_path, max_connections=4, request_timeout=30.0) as server:
        stalled = []
        for _ in range(4):
            sock = connect(server.url)
            sock.sendall(HEAD)
            stalled.append(sock)
            time.sleep(0.05)  # an order of arrival
        health = session().get(server.url + "/v1/health", timeout=5)
        assert health.status_code == 200
        # The first to stall made room (408: its request had begun, and the message says why it
        # was cut long before its 30 s); the others still wait.
        data, closed = ended(stalled[0], timeout=2)
        assert closed
        _assert_408(data, why="cap of 4 connections and this one had waited longest")
        for sock in stalled[2:]:
            sock.settimeout(0.2)
            with pytest.raises(TimeoutError):
                sock.recv(1)
        for sock in stalled:
            sock.close()


def test_when_every_connection_has_a_request_being_answered_a_newcomer_gets_503(
    tmp_path: Path, factory: Factory
) -> None:
    devices = [DeviceIdentity.issue(factory, serial=f"RN9S2109{n:04d}") for n in range(4)]
    with _embedded(tmp_path, max_connections=4) as server:
        statuses: list[int] = []
        with _write_turn_held(server.settings.data_dir):
            workers = [
                threading.Thread(
                    target=lambda d=d: statuses.append(
                        post_activation(server.url, d, d.request([sim("262-01")])).status_code
                    )
                )
                for d in devices
            ]
            for worker in workers:
                worker.start()
            time.sleep(0.5)  # all four arrived whole and wait in the store
            with connect(server.url) as sock:
                sock.sendall(b"GET /v1/health HTTP/1.1\r\nHost: vendor\r\n\r\n")
                refused = parse(read_to_end(sock, timeout=5))
        for worker in workers:
            worker.join(10)
    assert isinstance(refused, RawAnswer) and refused.status == 503, refused
    assert refused.headers["content-type"] == "application/json"
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"]["code"] == "server_busy"
    assert statuses == [200] * 4  # and the four it was answering were answered


@contextmanager
def _open_files(limit: int) -> Iterator[None]:
    """This process's soft open-file limit set to ``limit`` (within the hard one) meanwhile."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < limit:
        pytest.skip(f"the open-file limit is {hard}, below the {limit} this test needs")
    resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


@pytest.mark.slow
def test_two_thousand_stalled_connections_leave_health_answering(
    tmp_path: Path, factory: Factory
) -> None:
    """A server process whose open-file limit is 1,024 (a common default), 2,000 stalls."""
    settings = settings_in_a_process(tmp_path, request_timeout=2.0)
    with _open_files(1024):  # the server process inherits it
        processes = ServerProcesses(settings, 1, log_level="critical")
    try:
        with _open_files(8192):  # the test's own: 2,000 sockets and more
            kinds = list(STALLS.values())
            socks = []
            for n in range(2000):
                sock = socket.create_connection(address(processes.url), timeout=10)
                if kinds[n % 3]:
                    sock.sendall(kinds[n % 3])
                socks.append(sock)
            started = time.monotonic()
            health = session().get(processes.url + "/v1/health", timeout=10)
            answered_in = time.monotonic() - started
            assert health.status_code == 200 and answered_in < 2.0, answered_in
            # Every stalled connection is ended by the deadline (or made room before it).
            ends: Counter[str] = Counter()
            for n, sock in enumerate(socks):
                data, closed = ended(sock, timeout=max(0.1, started + 5 - time.monotonic()))
                sock.close()
                if not closed:
                    ends["still open"] += 1
                elif kinds[n % 3]:
                    answer = parse(data)
                    ends["408" if answer is not None and answer.status == 408 else repr(data)] += 1
                else:
                    ends["closed" if data == b"" else repr(data)] += 1
            assert ends == {"408": 1334, "closed": 666}, ends
            # And an honest device is served as ever.
            device = DeviceIdentity.issue(factory)
            verdict = post_activation(processes.url, device, device.request([sim("262-01")]))
            assert verdict.status_code == 200, verdict.text
    finally:
        processes.stop()


@pytest.mark.parametrize("accepted", [True, False], ids=["accepted before", "in the backlog"])
def test_a_request_that_has_arrived_is_not_cut_to_make_room(
    tmp_path: Path, factory: Factory, accepted: bool
) -> None:
    """The server process is stopped while a request arrives whole, and with it more stalled
    connections than the cap; once it runs again, the request is answered, not cut to make room
    (the newcomers take each other's places). Its connection was accepted before the stop, or
    waits in the listening socket's backlog with the flood."""
    processes = ServerProcesses(
        settings_in_a_process(tmp_path, max_connections=16), 1, log_level="critical"
    )
    pid = processes.pids[0]
    try:
        for _ in range(3):
            try:
                if accepted:
                    honest = socket.create_connection(address(processes.url), timeout=10)
                    time.sleep(0.1)  # the server takes it in, and waits for its request
                    os.kill(pid, signal.SIGSTOP)
                else:  # stopped first: the connection waits in the backlog, surely not taken in
                    os.kill(pid, signal.SIGSTOP)
                    honest = socket.create_connection(address(processes.url), timeout=10)
                honest.sendall(
                    b"GET /v1/health HTTP/1.1\r\nHost: vendor\r\nConnection: close\r\n\r\n"
                )
                flood = [socket.create_connection(address(processes.url)) for _ in range(48)]
            finally:
                os.kill(pid, signal.SIGCONT)
            with honest:
                answer = parse(read_to_end(honest, timeout=5))
            for sock in flood:
                sock.close()
            assert answer is not None and answer.status == 200, answer
    finally:
        processes.stop()
