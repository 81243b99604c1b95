"""A vendor server that answers whatever the test tells it to, on loopback, byte for byte.

The real phone client talks to it as to the vendor. Each POST is handed to the test's
``answer`` function, whose :class:`Reply` says what goes back: a (signed or forged) verdict,
HTML, garbage, a body cut short, an endless or gzip-bombed one (streamed, never built whole), a
redirect, one dribbled out a byte at a time (body or status line and headers), a long silence,
or a dropped connection. It also signs verdicts with any key and algorithm,
so tests can play the vendor, a thief of its key id, and an algorithm-confusion attacker.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from http_message_signatures import (
    HTTPMessageSigner,
    HTTPSignatureAlgorithm,
    MappingKeyResolver,
    algorithms,
)

from phone_sim.protocol.signing import JSON, VERDICT_COMPONENTS, WireResponse


@dataclass(frozen=True)
class SeenRequest:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def nonce(self) -> str:
        value = json.loads(self.body)["nonce"]
        assert isinstance(value, str)
        return value


@dataclass
class Reply:
    """What to send back. The defaults are an ordinary, complete HTTP answer."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    #: Content-Length to announce (None: the body's length); more than is sent truncates it
    declared_length: int | None = None
    #: send ``body`` this many times with chunked encoding, stopping when the reader does
    repeat_chunked: int = 0
    #: seconds between single bytes of the body (a slow drip)
    drip: float | None = None
    #: seconds between single bytes of the status line and headers
    drip_head: float | None = None
    #: the body, made as it is sent (for bodies too large to build): sent chunked unless
    #: ``declared_length`` is given
    stream: Callable[[], Iterable[bytes]] | None = None
    #: seconds of silence before anything is sent
    delay: float = 0.0
    #: close the connection without answering
    drop: bool = False


Answer = Callable[[SeenRequest], Reply]


@dataclass
class HostileVendor:
    answer: Answer
    url: str = ""
    seen: list[SeenRequest] = field(default_factory=list)
    #: body bytes the last reply managed to write before the reader went away
    sent: int = 0


@contextmanager
def hostile_vendor(answer: Answer | None = None) -> Iterator[HostileVendor]:
    """Serve ``answer`` on an ephemeral loopback port until the block ends."""
    state = HostileVendor(answer or (lambda _: Reply(status=503)))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            seen = SeenRequest(self.path, dict(self.headers.items()), body)
            state.seen.append(seen)
            reply = state.answer(seen)
            state.sent = 0
            with contextlib.suppress(OSError):  # the phone hung up on a body it will not read
                self._send(reply)
            self.close_connection = True

        def _send(self, reply: Reply) -> None:
            if reply.delay:
                time.sleep(reply.delay)
            if reply.drop:
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            chunked = bool(reply.repeat_chunked) or (
                reply.stream is not None and reply.declared_length is None
            )
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:
                length = len(reply.body) if reply.declared_length is None else reply.declared_length
                self.send_header("Content-Length", str(length))
            self.send_header("Connection", "close")
            if reply.drip_head is not None:
                head = b"".join(self._headers_buffer) + b"\r\n"
                self._headers_buffer = []
                for i in range(len(head)):
                    self.wfile.write(head[i : i + 1])
                    self.wfile.flush()
                    time.sleep(reply.drip_head)
            else:
                self.end_headers()
            if reply.stream is not None:
                for piece in reply.stream():
                    self.wfile.write(
                        f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece
                    )
                    state.sent += len(piece)
                if chunked:
                    self.wfile.write(b"0\r\n\r\n")
            elif reply.repeat_chunked:
                chunk = f"{len(reply.body):x}\r\n".encode() + reply.body + b"\r\n"
                for _ in range(reply.repeat_chunked):
                    self.wfile.write(chunk)
                    state.sent += len(reply.body)
                self.wfile.write(b"0\r\n\r\n")
            elif reply.drip is not None:
                for i in range(len(reply.body)):
                    self.wfile.write(reply.body[i : i + 1])
                    self.wfile.flush()
                    state.sent += 1
                    time.sleep(reply.drip)
            else:
                self.wfile.write(reply.body)
                state.sent += len(reply.body)
            self.wfile.flush()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# --- making verdicts ----------------------------------------------------------------------------


def signed(
    body: bytes,
    *,
    key: Any,
    key_id: str,
    created: int,
    algorithm: type[HTTPSignatureAlgorithm] = algorithms.ED25519,
    include_alg: bool = True,
    status: int = 200,
    content_type: str = JSON,
    components: tuple[str, ...] = VERDICT_COMPONENTS,
) -> Reply:
    """A reply carrying ``body`` signed like a verdict, with any key, algorithm or coverage."""
    response = WireResponse(status, {"Content-Type": content_type}, body)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithm,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key}),
    )
    signer.sign(
        response,
        key_id=key_id,
        created=dt.datetime.fromtimestamp(created, tz=dt.UTC),
        label="vendor",
        include_alg=include_alg,
        covered_component_ids=tuple(c for c in components if c != "content-digest"),
        body=body,
    )
    return Reply(status=200, headers=dict(response.headers), body=body)


def streamed_bomb(
    size: int, *, coding: str = "gzip", block: int = 1024 * 1024
) -> Callable[[], Iterator[bytes]]:
    """``size`` zero bytes as one gzip (or zlib ``deflate``) stream, compressed as it is sent
    (never built whole)."""
    wbits = 16 + zlib.MAX_WBITS if coding == "gzip" else zlib.MAX_WBITS

    def pieces() -> Iterator[bytes]:
        packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
        zeros = b"\0" * block
        for _ in range(size // block):
            out = packer.compress(zeros)
            if out:
                yield out
        yield packer.flush()

    return pieces


def streamed(
    size: int, *, fill: bytes = b" ", block: int = 64 * 1024
) -> Callable[[], Iterator[bytes]]:
    """``size`` bytes of ``fill``, sent a block at a time (never built whole)."""

    def pieces() -> Iterator[bytes]:
        chunk = fill * block
        for _ in range(size // block):
            yield chunk

    return pieces
