"""What :class:`OneWriteTransport` passes on to the socket's transport, and when.

The transport below it is asyncio's (an edge we do not own), so a recording stand-in takes its
place; the loop is a real one. Served over a socket: tests/functional/test_one_write.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from server_stub.runtime.one_write import OneWriteTransport

HEAD = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"


class _Recorder(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, bytes]] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.calls.append(("write", bytes(data)))

    def close(self) -> None:
        self.calls.append(("close", b""))
        self.closing = True

    def abort(self) -> None:
        self.calls.append(("abort", b""))
        self.closing = True

    def write_eof(self) -> None:
        self.calls.append(("write_eof", b""))

    def is_closing(self) -> bool:
        return self.closing

    def get_write_buffer_size(self) -> int:
        return 7


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    running = asyncio.new_event_loop()
    yield running
    running.close()


def _pair(loop: asyncio.AbstractEventLoop) -> tuple[OneWriteTransport, _Recorder]:
    below = _Recorder()
    return OneWriteTransport(below, loop), below


def _next_step(loop: asyncio.AbstractEventLoop) -> None:
    loop.run_until_complete(asyncio.sleep(0))


def test_a_head_goes_with_its_body_in_one_write(loop: asyncio.AbstractEventLoop) -> None:
    one, below = _pair(loop)
    one.write(HEAD)
    assert below.calls == [] and one.held == HEAD
    assert one.get_write_buffer_size() == 7 + len(HEAD)
    one.write(memoryview(b"ok"))
    one.write(HEAD)
    one.writelines([b"o", b"k"])
    _next_step(loop)  # nothing left for the loop to write
    assert below.calls == [("write", HEAD + b"ok")] * 2


def test_a_body_goes_at_once(loop: asyncio.AbstractEventLoop) -> None:
    one, below = _pair(loop)
    one.write(b"a chunk")
    one.write(bytearray(b"HTTP/1.1 in a bytearray is a body"))
    assert below.calls == [("write", b"a chunk"), ("write", b"HTTP/1.1 in a bytearray is a body")]


def test_a_head_without_a_body_leaves_at_the_next_step(loop: asyncio.AbstractEventLoop) -> None:
    one, below = _pair(loop)
    one.write(HEAD)
    _next_step(loop)
    assert below.calls == [("write", HEAD)] and one.held is None


@pytest.mark.parametrize("then", ["close", "write_eof"])
def test_closing_writes_the_head_first(loop: asyncio.AbstractEventLoop, then: str) -> None:
    one, below = _pair(loop)
    one.write(HEAD)
    getattr(one, then)()
    _next_step(loop)
    assert below.calls == [("write", HEAD), (then, b"")]


def test_abort_drops_the_head_as_the_transport_drops_its_buffer(
    loop: asyncio.AbstractEventLoop,
) -> None:
    one, below = _pair(loop)
    one.write(HEAD)
    one.abort()
    _next_step(loop)
    assert below.calls == [("abort", b"")]


def test_a_connection_closed_below_drops_the_head(loop: asyncio.AbstractEventLoop) -> None:
    one, below = _pair(loop)
    one.write(HEAD)
    below.closing = True  # the client went away
    _next_step(loop)
    assert below.calls == [] and one.held is None
