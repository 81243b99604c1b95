"""The HTTP connections uvicorn serves, with the limits it lacks.

uvicorn closes a keep-alive connection that stays idle, but one whose request is still arriving
was held forever: thousands of half-sent requests (slowloris) used up the process's file
descriptors and ``/v1/health`` stopped answering. httptools also takes a header block of any
size, and both parsers answer a framing error in plain text where PROTOCOL.md section 9 promises
JSON. :func:`guarded_protocol` subclasses uvicorn's protocol for the parser in use (httptools, or
h11 where httptools is missing, as uvicorn's ``auto`` chooses) and adds:

* **A deadline for receiving a request**: ``request_timeout`` seconds from the connection's start
  (or the end of the previous answer) to the last byte of the request's body, however the bytes
  trickle in. Past it, a request under way gets 408 ``request_timeout`` and the connection is
  closed; a connection that sent nothing is closed. The time the server takes to answer does
  not count.
* **A cap on connections** (``max_connections``, never more than the open-file limit leaves room
  for, :func:`connection_cap`). A connection over the cap takes the place of the one that has
  waited longest for its request (stalled or idle), which is closed as at its deadline; when
  every connection has a request being answered, the newcomer gets 503 ``server_busy`` and is
  closed. Stalled connections therefore never keep an honest request, ``/v1/health`` included,
  from being served.
* **A cap on the header block** (request line and headers, :data:`MAX_HEADER_BYTES`): 431
  ``headers_too_large`` (h11 has its own, set to the same size).
* **Framing errors as JSON** (malformed request line, bad header, bad chunked encoding, a
  ``Content-Length`` that is no number): 400 ``malformed_request`` with the parser's reason.

Imports ``api`` for the error body only.
"""

from __future__ import annotations

import asyncio
import http
import json
import os
import resource
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from uvicorn.protocols.http.h11_impl import H11Protocol

from server_stub.api.http_errors import error_payload

#: the request line and headers of one request, at most
MAX_HEADER_BYTES = 64 * 1024
#: file descriptors kept out of the connection cap: the database and its readers, the WAL
#: checkpointer, the process pipes, logs, the thread pool's needs
RESERVED_FDS = 256
#: how much of the parser's reason (which may quote the request) the answer repeats
MAX_REASON = 200
#: the open-file limit never lowers the cap below this (the limit is then too low to serve)
MIN_CONNECTIONS = 16

HttpParser = Literal["auto", "httptools", "h11"]


@dataclass(frozen=True)
class ConnectionLimits:
    """What :func:`guarded_protocol` enforces (see the module docstring)."""

    request_timeout: float
    max_connections: int
    max_header_bytes: int = MAX_HEADER_BYTES


def connection_cap(requested: int) -> int:
    """``requested``, or fewer if the open-file limit would run out first."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return requested
    try:
        open_now = len(os.listdir("/proc/self/fd"))
    except OSError:
        open_now = 64  # no /proc: a typical count for this server
    return min(requested, max(MIN_CONNECTIONS, soft - open_now - RESERVED_FDS))


def json_error(
    status: int, code: str, message: str, headers: Sequence[tuple[bytes, bytes]] = ()
) -> bytes:
    """A whole HTTP/1.1 answer with an ``ErrorBody``, ending the connection; ``headers`` go
    first (uvicorn's ``date`` and ``server``)."""
    body = json.dumps(error_payload(code, message), separators=(",", ":")).encode()
    lines = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}".encode()]
    lines += [name + b": " + value for name, value in headers]
    lines += [
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
    ]
    if status == 503:
        lines.append(b"retry-after: 1")
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class _HeadersTooLarge(Exception):
    pass


class _Registry:
    """One server's limits and its connections waiting for a request, oldest first."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.waiting: dict[_Guard, None] = {}


class _Guard:
    """What both protocol classes add (uvicorn's attributes it uses are declared here)."""

    registry: ClassVar[_Registry]
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    cycle: Any  # the parser module's RequestResponseCycle, or None before the first request
    connections: set[Any]
    server_state: Any

    _deadline: asyncio.TimerHandle | None = None
    _started = False  # bytes of a request arrived since the wait began

    def _admit(self) -> None:
        """Called once the connection counts: keep within the cap, start the first wait."""
        if len(self.connections) > self.registry.limits.max_connections:
            oldest = next(iter(self.registry.waiting), None)
            if oldest is None:
                self._answer(
                    503, "server_busy", "the server is answering as many requests as it can"
                )
                return
            oldest._expire(evicted=True)
        self._watch()

    def _received(self) -> bool:
        cycle = self.cycle
        return cycle is not None and not cycle.response_complete and not cycle.more_body

    def _watch(self) -> None:
        """Arm the deadline while waiting for a request; disarm once it has all arrived."""
        if self._received() or self.transport.is_closing():
            self._disarm()
        elif self._deadline is None:
            self._started = False
            self._deadline = self.loop.call_later(
                self.registry.limits.request_timeout, self._expire
            )
            self.registry.waiting[self] = None

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
        self.registry.waiting.pop(self, None)

    def _expire(self, *, evicted: bool = False) -> None:
        """The deadline passed, or (``evicted``) a newcomer needs the place: end this connection."""
        self._disarm()
        if self.transport.is_closing():
            return
        cycle = self.cycle
        answering = cycle is not None and cycle.response_started and not cycle.response_complete
        if cycle is not None and not cycle.response_complete:
            # The app may be waiting for the rest of the body: it now hears a disconnect.
            cycle.disconnected = True
            cycle.message_event.set()
        if self._started and not answering:
            limits = self.registry.limits
            why = (
                f"the server was at its cap of {limits.max_connections} connections and this "
                "one had waited longest for its request"
                if evicted
                else f"it did not arrive within {limits.request_timeout:g} s"
            )
            self._answer(408, "request_timeout", f"the request was not complete: {why}")
        else:
            self.transport.close()

    def _answer(self, status: int, code: str, message: str) -> None:
        """Send a JSON error and close (the request, if any, is abandoned)."""
        self._disarm()
        if not self.transport.is_closing():
            headers = self.server_state.default_headers
            self.transport.write(json_error(status, code, message, headers))
            self.transport.close()

    def _framing_error(self) -> None:
        """Answer the parser's error. uvicorn calls ``send_400_response`` inside the ``except``
        block that caught it, so it is the exception being handled."""
        error = sys.exc_info()[1]
        if (
            isinstance(getattr(error, "__context__", None), _HeadersTooLarge)  # httptools'
            or getattr(error, "error_status_hint", None) == 431  # h11's own limit
        ):
            self._headers_too_large()
        else:
            reason = str(error)[:MAX_REASON] if error is not None else "unparseable"
            self._answer(400, "malformed_request", f"invalid HTTP request: {reason}")

    def _headers_too_large(self) -> None:
        limit = self.registry.limits.max_header_bytes
        message = f"the request line and headers are larger than {limit} bytes"
        self._answer(431, "headers_too_large", message)


class _GuardedH11(_Guard, H11Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._admit()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._deadline is not None:
            self._started = True
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def send_400_response(self, msg: str) -> None:
        self._framing_error()


def _httptools_class() -> type[_Guard]:
    # Imported first, as uvicorn's "auto" does: when it cannot be (the benchmarks' legacy stack
    # hides it), the ImportError chooses h11, even if uvicorn's module for it was loaded.
    import httptools  # noqa: F401
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class _GuardedHttpTools(_Guard, HttpToolsProtocol):
        # httptools keeps a header value until it ends, and calls on_header only then: a value
        # that never ends is counted as it arrives (_head_bytes), a whole block by the callbacks
        # (_parsed_bytes).
        _in_head = False
        _head_bytes = 0
        _parsed_bytes = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._admit()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            if self._deadline is not None:
                self._started = True
            super().data_received(data)
            if self._in_head and not self.transport.is_closing():
                self._head_bytes += len(data)
                if self._head_bytes > self.registry.limits.max_header_bytes:
                    self._headers_too_large()
                    return
            self._watch()

        def on_message_begin(self) -> None:
            self._in_head, self._head_bytes, self._parsed_bytes = True, 0, 0
            super().on_message_begin()

        def on_url(self, url: bytes) -> None:
            self._count_parsed(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count_parsed(len(name) + len(value) + 4)
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._in_head = False
            super().on_headers_complete()

        def _count_parsed(self, size: int) -> None:
            self._parsed_bytes += size
            if self._parsed_bytes > self.registry.limits.max_header_bytes:
                raise _HeadersTooLarge  # the parser stops; send_400_response answers 431

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._watch()

        def send_400_response(self, msg: str) -> None:
            self._framing_error()

    return _GuardedHttpTools


def guarded_protocol(
    limits: ConnectionLimits, parser: HttpParser = "auto"
) -> type[asyncio.Protocol]:
    """A protocol class for one server (each gets its own, holding its connections' registry)."""
    base: type[_Guard]
    if parser == "h11":
        base = _GuardedH11
    else:
        try:
            base = _httptools_class()
        except ImportError:
            if parser == "httptools":
                raise
            base = _GuardedH11
    protocol = type(f"Vendor{base.__name__.lstrip('_')}", (base,), {"registry": _Registry(limits)})
    assert issubclass(protocol, asyncio.Protocol)
    return protocol
