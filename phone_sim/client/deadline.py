"""One deadline for a whole exchange with the vendor: connect, send, status line, headers, body.

A socket timeout bounds each wait, not their sum: a vendor (or a man in the middle) that drips
its status line, its headers or its body a byte at a time stays under any per-read timeout and
can hold the phone for hours. Here the connection that carries an exchange is noted when its
request goes out (:class:`DeadlineAdapter` gives ``requests`` connections that do so), and one
watchdog thread per process shuts that connection's socket down when the exchange's deadline
passes: whatever read was waiting fails at once, and the client reports ``timeout``.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

from requests import PreparedRequest
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import ConnectionPool, HTTPConnectionPool, HTTPSConnectionPool

from .one_write import OneWrite


class Flight:
    """The deadline of one exchange and the connection carrying it, once its request is out."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        #: the watchdog cut the connection: the exchange ran out of time
        self.expired = False
        self._connection: HTTPConnection | None = None
        self._done = False
        self._lock = threading.Lock()

    def carried_by(self, connection: HTTPConnection) -> None:
        with self._lock:
            self._connection = connection
            late = self.expired
        if late:
            self._cut(connection)

    def connected(self, connection: HTTPConnection) -> None:
        """The connection is made: cut it at once if the deadline passed while it was made."""
        with self._lock:
            late = self.expired and not self._done
        if late:
            self._cut(connection)

    def expire(self) -> None:
        """The watchdog's call at the deadline: cut the connection unless the exchange is over."""
        with self._lock:
            if self._done:
                return
            self.expired = True
            connection = self._connection
        if connection is not None:
            self._cut(connection)

    def finish(self) -> None:
        """The exchange is over (answered or failed): the watchdog leaves it alone."""
        with self._lock:
            self._done = True

    @property
    def finished(self) -> bool:
        """The exchange is over: nothing to cut at its deadline."""
        return self._done

    @staticmethod
    def _cut(connection: HTTPConnection) -> None:
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed: nothing waits on it
                sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()


class _Watchdog:
    """One daemon thread that expires exchanges at their deadlines, earliest first."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Flight]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        #: times the thread woke (tests count them)
        self.wakes = 0

    def watch(self, exchange: Flight) -> None:
        with self._wake:
            entry = (exchange.deadline, next(self._order), exchange)
            heapq.heappush(self._heap, entry)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="vendor-deadline", daemon=True
                )
                self._thread.start()
            if self._heap[0] is entry:  # sooner than it was waiting for: wake it
                self._wake.notify()

    def _run(self) -> None:
        while True:
            with self._wake:
                # An exchange that is over needs nothing at its deadline: dropped here, without
                # a wake of its own. Nearly every exchange ends long before its deadline, so the
                # thread sleeps until the first one still under way is due, not once per
                # exchange (docs/decisions/one-deadline-wake-per-timeout.md).
                while self._heap and self._heap[0][2].finished:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._wake.wait()
                    self.wakes += 1
                    continue
                deadline, _, exchange = self._heap[0]
                wait = deadline - time.monotonic()
                if wait > 0:
                    self._wake.wait(wait)
                    self.wakes += 1
                    continue
                heapq.heappop(self._heap)
            exchange.expire()


_watchdog = _Watchdog()


def begin(deadline: float) -> Flight:
    """Start an exchange on this thread; its requests go out through connections it watches."""
    exchange = Flight(deadline)
    _current.exchange = exchange
    _watchdog.watch(exchange)
    return exchange


def end(exchange: Flight) -> None:
    exchange.finish()
    if getattr(_current, "exchange", None) is exchange:
        _current.exchange = None


class _Noted:
    """Mixed into urllib3's connections: the exchange on this thread learns its connection.

    (A plain HTTP connection is made inside ``request``; an HTTPS one before it.)
    """

    def request(self, *args: Any, **kwargs: Any) -> None:
        flight = getattr(_current, "exchange", None)
        if flight is not None:
            flight.carried_by(self)
        super().request(*args, **kwargs)  # type: ignore[misc]

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        flight = getattr(_current, "exchange", None)
        if flight is not None:
            flight.connected(self)


class _NotedHTTPConnection(_Noted, OneWrite, HTTPConnection):
    pass


class _NotedHTTPSConnection(_Noted, OneWrite, HTTPSConnection):
    pass


class _Pool(HTTPConnectionPool):
    ConnectionCls = _NotedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _NotedHTTPSConnection


class DeadlineAdapter(HTTPAdapter):
    """``requests``' adapter, with connections the exchange deadline can cut.

    The pool for a URL is looked up once, not once per request: ``requests`` parses the URL and
    builds the pool manager's key every time, a thirtieth of a phone's exchange
    (docs/decisions/one-pool-lookup-per-url.md). :meth:`close` forgets them with the manager's;
    with proxies, every request is looked up. (A pool the manager drops for an eleventh host,
    which urllib3 2 does without closing it, stays in use here for its URLs until this forgets
    it.)
    """

    #: remembered per (URL, verify, cert); no more than this many
    MAX_POOLS = 64

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _Pool, "https": _HTTPSPool}
        # Here, not in __init__: an unpickled adapter makes its pool manager again, not this.
        self._pools: dict[tuple[str | None, Any, Any], ConnectionPool] = {}

    def get_connection_with_tls_context(
        self,
        request: PreparedRequest,
        verify: Any,
        proxies: Mapping[str, str] | None = None,
        cert: Any = None,
    ) -> ConnectionPool:
        if proxies:
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        key = (request.url, verify, cert)
        # The table as it is now: a close() meanwhile swaps in a new one, and a pool looked up
        # before it goes into the old table, not the new (never handed out after the close).
        pools = self._pools
        pool = pools.get(key)
        if pool is None:
            pool = super().get_connection_with_tls_context(request, verify, proxies, cert)
            if len(pools) >= self.MAX_POOLS:
                pools.clear()
            pools[key] = pool
        return pool

    def close(self) -> None:
        self._pools = {}
        super().close()


def install(session: Any) -> None:
    """Mount :class:`DeadlineAdapter` on ``session`` unless it is there (keeps pooled connections)."""
    for prefix in ("http://", "https://"):
        if not isinstance(session.adapters.get(prefix), DeadlineAdapter):
            session.mount(prefix, DeadlineAdapter())
