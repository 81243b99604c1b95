"""Each answer leaves in one write: head and body in one TCP segment (``runtime/one_write``).

uvicorn's httptools protocol wrote the head and the body of every answer separately: two sends,
two segments with ``TCP_NODELAY``, and often two reads on the phone
(docs/decisions/one-write-per-answer.md). The segments are counted by the kernel on the client's
socket (``tcpi_data_segs_in``). The rest of the file is what holding a head back must not
break, against a small ASGI app served by uvicorn with the server's own protocol class: a body
that comes later, streaming, HEAD, 204/304, keep-alive and pipelining, an answer that closes the
connection, a client gone before its answer, a client that reads slowly.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn
from starlette.types import Message, Receive, Scope, Send

from server_stub.runtime.connections import ConnectionLimits, guarded_protocol
from server_stub.runtime.embedded import EmbeddedVendorServer
from server_stub.runtime.sockets import bind_socket, socket_url
from tests.support.raw_http import RawAnswer, connect, ended, parse

#: where ``tcpi_data_segs_in`` lies in Linux's ``struct tcp_info`` (since 4.6)
DATA_SEGS_IN = 152
BIG_CHUNK, BIG_CHUNKS = 256 * 1024, 32  # 8 MiB: far past the transport's high-water mark
BIG_BODY = hashlib.sha256(b"big").digest() * (BIG_CHUNK // 32)


def _segments_in(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    return int(struct.unpack_from("I", info, DATA_SEGS_IN)[0])


def _read_answer(sock: socket.socket, *, head_only: bool = False) -> tuple[RawAnswer, int]:
    """One whole answer (Content-Length framed) and the reads it took."""
    data, reads = b"", 0
    while True:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {data!r}"
        data, reads = data + chunk, reads + 1
        answer = parse(data)
        if answer is not None and (
            head_only or len(answer.body) >= int(answer.headers.get("content-length", 0))
        ):
            return answer, reads


class _App:
    """Routes that make uvicorn write each kind of answer; ``seen_head`` is set by the test."""

    def __init__(self) -> None:
        self.seen_head = threading.Event()
        self.client_gone = threading.Event()
        self.answered_gone = threading.Event()
        self.errors: list[BaseException] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        try:
            await self._route(scope["path"], send)
        except BaseException as exc:
            self.errors.append(exc)
            raise

    async def _until(self, event: threading.Event) -> None:
        deadline = time.monotonic() + 10
        while not event.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.005)

    async def _route(self, path: str, send: Send) -> None:
        start: Message = {"type": "http.response.start", "status": 200, "headers": []}
        body: Message = {"type": "http.response.body", "body": b"", "more_body": False}
        if path in ("/204", "/304"):
            start["status"] = int(path[1:])
            await send(start)
            await send(body)
        elif path == "/later":  # the body only once the client has seen the head
            start["headers"] = [(b"content-length", b"5")]
            await send(start)
            await self._until(self.seen_head)
            await send({**body, "body": b"later"})
        elif path == "/after-client-gone":
            await self._until(self.client_gone)
            await send({**start, "headers": [(b"content-length", b"4")]})
            await send({**body, "body": b"gone"})
            self.answered_gone.set()
        elif path == "/big":  # chunked, and more than the transport buffers
            await send(start)
            for _ in range(BIG_CHUNKS):
                await send({**body, "body": BIG_BODY, "more_body": True})
            await send(body)
        else:
            start["headers"] = [(b"content-length", b"2")]
            await send(start)
            await send({**body, "body": b"ok"})


@pytest.fixture(scope="module")
def app_server() -> Iterator[tuple[str, _App]]:
    """``_App`` served by uvicorn with the server's protocol class (httptools)."""
    app = _App()
    limits = ConnectionLimits(request_timeout=30, max_connections=64)
    config = uvicorn.Config(
        app, http=guarded_protocol(limits, "httptools"), lifespan="off", ws="none",
        log_level="critical",
    )  # fmt: skip
    server = uvicorn.Server(config)
    sock = bind_socket("127.0.0.1", 0)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started
    yield socket_url(sock), app
    server.should_exit = True
    thread.join(10)
    sock.close()
    assert not app.errors, app.errors


VENDOR_REQUESTS = {
    "health": b"GET /v1/health HTTP/1.1\r\nHost: v\r\n\r\n",
    "a refused activation (direct route)": (
        b"POST /v1/activation HTTP/1.1\r\nHost: v\r\nContent-Length: 1\r\n\r\n{"
    ),
    "not found (the whole stack)": b"GET /nowhere HTTP/1.1\r\nHost: v\r\n\r\n",
    "an admin call without a token": b"GET /admin/v1/devices HTTP/1.1\r\nHost: v\r\n\r\n",
}


def test_each_answer_of_the_vendor_arrives_in_one_segment(
    vendor_server: EmbeddedVendorServer,
) -> None:
    with connect(vendor_server.url) as sock:
        for name, request in VENDOR_REQUESTS.items():
            for _ in range(3):  # on one keep-alive connection
                before = _segments_in(sock)
                sock.sendall(request)
                answer, _ = _read_answer(sock)
                assert answer.body, name
                assert _segments_in(sock) - before == 1, name


def test_a_body_written_later_does_not_hold_the_head_back(app_server: tuple[str, _App]) -> None:
    url, app = app_server
    with connect(url) as sock:
        sock.sendall(b"GET /later HTTP/1.1\r\nHost: a\r\n\r\n")
        head, _ = _read_answer(sock, head_only=True)
        assert head.status == 200 and head.body == b"", "the head waited for the body"
        app.seen_head.set()
        body = b""
        while len(body) < 5:
            chunk = sock.recv(64)
            assert chunk, "closed before the body"
            body += chunk
    assert body == b"later"


@pytest.mark.parametrize("path", ["/204", "/304"])
def test_answers_without_a_body_arrive_whole_and_the_connection_goes_on(
    app_server: tuple[str, _App], path: str
) -> None:
    url, _ = app_server
    with connect(url) as sock:
        for _ in range(2):
            before = _segments_in(sock)
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: a\r\n\r\n".encode())
            answer, _ = _read_answer(sock)
            assert answer.status == int(path[1:]) and answer.body == b""
            assert "transfer-encoding" not in answer.headers
            assert _segments_in(sock) - before == 1


def test_head_and_pipelined_requests_are_answered_in_order(app_server: tuple[str, _App]) -> None:
    url, _ = app_server
    requests = [
        b"GET /ok HTTP/1.1\r\nHost: a\r\n\r\n",
        b"HEAD /ok HTTP/1.1\r\nHost: a\r\n\r\n",  # no body write at all: flushed by the loop
        b"GET /204 HTTP/1.1\r\nHost: a\r\n\r\n",
        b"HEAD /ok HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",  # flushed by close
    ]
    with connect(url) as sock:
        sock.sendall(b"".join(requests))
        data, closed = ended(sock, timeout=10)
    assert closed
    heads = data.split(b"HTTP/1.1 ")[1:]
    statuses = [h.split(b"\r\n", 1)[0] for h in heads]
    assert statuses == [b"200 OK", b"200 OK", b"204 No Content", b"200 OK"]
    assert heads[0].endswith(b"\r\n\r\nok")  # the GET's body, right after its head
    assert all(h.endswith(b"\r\n\r\n") for h in heads[1:])  # HEAD and 204: nothing after
    assert b"connection: close" in heads[3]


def test_a_guard_error_on_a_kept_connection_is_whole(app_server: tuple[str, _App]) -> None:
    url, _ = app_server
    with connect(url) as sock:
        sock.sendall(b"GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
        assert _read_answer(sock)[0].body == b"ok"
        sock.sendall(b"GARBAGE\r\n\r\n")  # the guards write it through the same transport
        data, closed = ended(sock, timeout=10)
    assert closed
    answer = parse(data)
    assert answer is not None and answer.status == 400, data
    assert answer.json()["error"]["code"] == "malformed_request"


def test_a_client_gone_before_its_answer_leaves_the_server_serving(
    app_server: tuple[str, _App],
) -> None:
    url, app = app_server
    with connect(url) as sock:
        sock.sendall(b"GET /after-client-gone HTTP/1.1\r\nHost: a\r\n\r\n")
    app.client_gone.set()
    assert app.answered_gone.wait(10)  # its answer went to a closed connection
    with connect(url) as sock:
        sock.sendall(b"GET /ok HTTP/1.1\r\nHost: a\r\n\r\n")
        answer, _ = _read_answer(sock)
    assert answer.body == b"ok"
    assert not app.errors, app.errors


def test_a_slow_reader_gets_a_large_chunked_answer_whole(app_server: tuple[str, _App]) -> None:
    url, _ = app_server
    with connect(url) as sock:
        sock.sendall(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
        time.sleep(0.3)  # the server fills its buffers and pauses writing
        data = b""
        while not data.endswith(b"\r\n0\r\n\r\n"):
            chunk = sock.recv(1 << 20)
            assert chunk, "closed before the end"
            data += chunk
    head, _, chunked = data.partition(b"\r\n\r\n")
    assert b"transfer-encoding: chunked" in head
    body, rest = b"", chunked
    while True:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        body, rest = body + rest[:size], rest[size + 2 :]
    assert body == BIG_BODY * BIG_CHUNKS
