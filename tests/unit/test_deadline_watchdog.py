"""The exchange deadline's watchdog (``phone_sim.client.deadline``): it cuts an exchange still
under way at its deadline, and does not wake for the exchanges that ended before theirs.

A fleet's phones start hundreds of exchanges a second, each with a deadline seconds away; the
watchdog woke at every one of those deadlines to find the exchange long over
(docs/decisions/one-deadline-wake-per-timeout.md).
"""

from __future__ import annotations

import socket
import threading
import time

from phone_sim.client.deadline import Flight, _Watchdog


class _Connection:
    """What the watchdog cuts: a connection's socket (one end of a real socket pair)."""

    def __init__(self) -> None:
        self.sock, self.peer = socket.socketpair()

    def close(self) -> None:
        self.sock.close()
        self.peer.close()


def _cut_within(connection: _Connection, seconds: float) -> bool:
    """The watchdog shut the connection down: a read on it ends at once, with no data."""
    connection.sock.settimeout(seconds)
    try:
        return connection.sock.recv(1) == b""
    except TimeoutError:
        return False


def _watched(watchdog: _Watchdog, connection: _Connection, after: float) -> Flight:
    """An exchange due ``after`` seconds from now, its request out on ``connection``."""
    flight = Flight(time.monotonic() + after)
    watchdog.watch(flight)
    flight.carried_by(connection)  # type: ignore[arg-type]
    return flight


def test_an_exchange_under_way_is_cut_at_its_deadline() -> None:
    watchdog = _Watchdog()
    connection = _Connection()
    try:
        flight = _watched(watchdog, connection, 0.05)
        assert _cut_within(connection, 5.0)
        assert flight.expired
    finally:
        connection.close()


def test_exchanges_that_ended_cost_the_watchdog_no_wake_each() -> None:
    watchdog = _Watchdog()
    start = time.monotonic()
    ended = []
    for i in range(300):  # due one millisecond apart, over 0.3 s
        flight = Flight(start + 0.02 + i * 0.001)
        watchdog.watch(flight)
        flight.finish()
        ended.append(flight)
    connection = _Connection()
    try:
        last = Flight(start + 0.6)  # still under way: cut at its deadline, after the others
        watchdog.watch(last)
        last.carried_by(connection)  # type: ignore[arg-type]
        assert _cut_within(connection, 5.0)
        assert last.expired
        assert not any(flight.expired for flight in ended)
        # One wake for the first deadline (every ended exchange dropped then), one for the
        # last: a wake per exchange would be 300.
        assert watchdog.wakes <= 5, watchdog.wakes
    finally:
        connection.close()


def test_an_exchange_ending_while_watched_is_left_alone() -> None:
    watchdog = _Watchdog()
    connection = _Connection()
    try:
        flight = _watched(watchdog, connection, 0.1)
        flight.finish()
        # Past the deadline, the connection is still whole and the exchange not expired.
        assert not _cut_within(connection, 0.3)
        assert not flight.expired
    finally:
        connection.close()


def test_many_threads_watched_at_once_each_cut_on_time() -> None:
    watchdog = _Watchdog()
    connections = [_Connection() for _ in range(8)]
    results: list[bool] = []
    lock = threading.Lock()

    def one(connection: _Connection, after: float) -> None:
        for _ in range(50):  # exchanges that end in time
            flight = Flight(time.monotonic() + 0.01)
            watchdog.watch(flight)
            flight.finish()
        flight = _watched(watchdog, connection, after)
        cut = _cut_within(connection, 5.0) and flight.expired
        with lock:
            results.append(cut)

    threads = [
        threading.Thread(target=one, args=(c, 0.05 + i * 0.02)) for i, c in enumerate(connections)
    ]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        assert results == [True] * len(connections)
    finally:
        for connection in connections:
            connection.close()
