"""A connection's transport that sends an answer's head together with its body.

uvicorn's httptools protocol writes an answer in two calls: the status line and headers at
``http.response.start``, then the body. Each is a ``send`` of its own and, with ``TCP_NODELAY``,
a TCP segment of its own, which the phone may read with a ``recv`` of its own.
:class:`OneWriteTransport` stands between the protocol and the socket's transport: it holds a
head back and writes it with the next write (the body, in the same step of the loop for every
answer our routes make), so the answer leaves in one ``send``
(docs/decisions/one-write-per-answer.md).

Whatever the protocol does next, a held head goes first, so nothing is reordered or lost:

* the next ``write`` or ``writelines`` carries it (a body, an empty final body, the next
  answer of a pipelined connection, an error the connection guards write);
* ``close`` and ``write_eof`` write it first (an answer that ends the connection, a HEAD or
  204/304 answer that has no body write at all);
* otherwise the loop's next step writes it (a streaming answer whose body is not ready yet);
* ``abort`` drops it, as the transport drops its own buffer; a connection the client has
  already closed drops it too.

The transport's write buffer and its ``pause_writing``/``resume_writing`` calls to the protocol
are unchanged: a held head is a few hundred bytes for at most one step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

#: how every head uvicorn writes begins (and its ``100 Continue``); a body that happens to
#: begin so is held as well, which costs it one step of the loop and nothing else
HEAD_START = b"HTTP/1.1 "

Data = bytes | bytearray | memoryview


class OneWriteTransport(asyncio.Transport):
    """Wraps one connection's transport (see the module docstring)."""

    __slots__ = ("_flush_soon", "_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None
        self._flush_soon = self._flush

    @property
    def held(self) -> bytes | None:
        """The head waiting for its body, if any."""
        return self._held

    def write(self, data: Data) -> None:
        held = self._held
        if held is not None:
            self._held = None
            self._transport.write(held + data)
        elif isinstance(data, bytes) and data.startswith(HEAD_START):
            self._held = data
            self._loop.call_soon(self._flush_soon)
        else:
            self._transport.write(data)

    def writelines(self, list_of_data: Iterable[Data]) -> None:
        self.write(b"".join(list_of_data))

    def _flush(self) -> None:
        held = self._held
        if held is not None:
            self._held = None
            if not self._transport.is_closing():
                self._transport.write(held)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + len(self._held or b"")

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)
