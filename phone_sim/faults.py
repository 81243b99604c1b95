"""Fault injection: a loopback proxy between the phone's client and the vendor server.

Scenario drivers always route the phone through a :class:`FaultProxy`, so a fault can be
switched on and off between steps without touching the phone. Modes:

* ``none``     forward untouched;
* ``slow``     forward at once, then hold the answer ``delay`` real seconds (a delay beyond the
  client's timeout is a clean ``timeout`` on the phone; the server has decided all the same);
* ``garbage``  answer 200 with bytes that are no verdict and carry no signature;
* ``tampered`` forward, then flip the verdict's ``status`` in the signed body (the signature no
  longer verifies);
* ``drop``     close the connection without an answer;
* ``replay``   do not forward; answer with the last verdict the server sent this device.

The proxy forwards the phone's ``Host`` header unchanged: the request signature covers the
URL the phone addressed (the proxy's), and the server rebuilds it from ``Host``.
"""

from __future__ import annotations

import http.client
import json
import threading
from dataclasses import dataclass
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

#: headers that describe one hop; the proxy sets its own
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})
GARBAGE = b"\x00\x17<html>502 upstream sent garbage</html>\xff"
UPSTREAM_TIMEOUT = 10.0
POLL_INTERVAL = 0.05


class FaultMode(StrEnum):
    NONE = "none"
    SLOW = "slow"
    GARBAGE = "garbage"
    TAMPERED = "tampered"
    DROP = "drop"
    REPLAY = "replay"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def flip_status(body: bytes) -> bytes:
    """The verdict with ``activated`` and ``locked`` swapped; other bodies unchanged."""
    activated, locked = b'"status":"activated"', b'"status":"locked"'
    if activated in body:
        return body.replace(activated, locked, 1)
    if locked in body:
        return body.replace(locked, activated, 1)
    return body


def _serial_of(body: bytes) -> str | None:
    try:
        serial = json.loads(body)["device"]["serial"]
    except (ValueError, KeyError, TypeError):
        return None
    return serial if isinstance(serial, str) else None


class FaultProxy:
    """A threaded HTTP proxy on ``127.0.0.1`` (ephemeral port) in front of ``upstream``."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.mode = FaultMode.NONE
        self.delay = 0.0
        self._lock = threading.Lock()
        #: the last 200 answer per device serial, for ``replay``
        self._last_ok: dict[str, Answer] = {}
        # Set on close so that a handler holding an answer back ("slow") lets go at once.
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def set_fault(self, mode: FaultMode | str, delay: float = 0.0) -> None:
        with self._lock:
            self.mode, self.delay = FaultMode(mode), delay

    def start(self) -> Self:
        if self._thread is None:
            # A short poll interval lets close() return at once rather than after half a second.
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": POLL_INTERVAL},
                name="fault-proxy",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        self._closing.set()
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # --- the work of one request ----------------------------------------------------------

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> Answer | None:
        """What to send back for one request, or None to close the connection unanswered."""
        with self._lock:
            mode, delay, upstream = self.mode, self.delay, self.upstream
        serial = _serial_of(body)
        if mode is FaultMode.DROP:
            return None
        if mode is FaultMode.GARBAGE:
            return Answer(200, (("Content-Type", "text/plain"),), GARBAGE)
        if mode is FaultMode.REPLAY:
            with self._lock:
                recorded = self._last_ok.get(serial or "")
            # Nothing recorded yet: the attacker has nothing to replay, so the request goes through.
            if recorded is not None:
                return recorded
        answer = self._forward(upstream, path, headers, body)
        if answer is None:
            return None
        if answer.status == 200 and serial is not None:
            with self._lock:
                self._last_ok[serial] = answer
        if mode is FaultMode.TAMPERED:
            return Answer(answer.status, answer.headers, flip_status(answer.body))
        if mode is FaultMode.SLOW:
            # Forwarded first, so the server's record does not depend on when the phone gave up.
            self._closing.wait(delay)
        return answer

    def _forward(
        self, upstream: str, path: str, headers: dict[str, str], body: bytes
    ) -> Answer | None:
        target = urlsplit(upstream)
        conn = http.client.HTTPConnection(
            target.hostname or "127.0.0.1", target.port, timeout=UPSTREAM_TIMEOUT
        )
        try:
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            rheaders = tuple(
                (k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP
            )
            return Answer(response.status, rheaders, response.read())
        except OSError:
            return None  # the server is down: the phone sees the connection closed
        finally:
            conn.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass  # a scenario's output is the runner's, not the proxy's access log

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0") or "0")
                body = self.rfile.read(length)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                answer = proxy.answer(self.path, headers, body)
                if answer is None:
                    self.close_connection = True
                    return
                try:
                    self.send_response(answer.status)
                    for key, value in answer.headers:
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the phone gave up waiting ("slow"): nobody to answer

        return Handler
