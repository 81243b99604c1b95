"""Raw HTTP over a socket, for what ``requests`` will not send: broken framing, stalls, floods."""

from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def connect(url: str, *, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(address(url), timeout=timeout)


def read_to_end(sock: socket.socket, *, timeout: float = 10.0) -> bytes:
    """Everything the server sends until it closes (or ``timeout`` passes: then what came)."""
    return ended(sock, timeout=timeout)[0]


def ended(sock: socket.socket, *, timeout: float) -> tuple[bytes, bool]:
    """What the server sent on ``sock``, and whether it closed the connection within
    ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    data = b""
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return data, False
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def parse(raw: bytes) -> RawAnswer | None:
    """The first answer in ``raw``, or None if it holds none."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", len(rest)))
    return RawAnswer(int(lines[0].split()[1]), headers, rest[:length])


def exchange(url: str, raw: bytes, *, timeout: float = 10.0) -> RawAnswer | None:
    """Send ``raw`` on a new connection and read what comes back until the server closes."""
    with connect(url, timeout=timeout) as sock:
        sock.sendall(raw)
        return parse(read_to_end(sock, timeout=timeout))
