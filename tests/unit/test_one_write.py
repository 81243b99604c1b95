"""A request's head and body leave the phone in one write (``phone_sim.client.one_write``).

Through the phone's own session, against a server on loopback that answers every request
(``tests.support.hostile_vendor``): each request of a signed POST is one ``sendall`` on the
socket, whole; requests with no body, with a body too large to copy, or a body that is a stream
still go, whole, as urllib3 sends them.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from phone_sim.client import deadline
from phone_sim.client.one_write import MAX_JOINED
from phone_sim.client.transport import new_session, prepare_post
from phone_sim.protocol.signing import JSON
from tests.support.hostile_vendor import HostileVendor, Reply, SeenRequest, hostile_vendor
from tests.support.raw_http import address


class _CountingSocket:
    """The connection's socket, each ``sendall`` noted."""

    def __init__(self, sock: socket.socket, writes: list[bytes]) -> None:
        self._sock, self._writes = sock, writes

    def sendall(self, data: Any, *args: Any) -> None:
        self._writes.append(bytes(data))
        self._sock.sendall(data, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


@pytest.fixture
def vendor() -> Iterator[HostileVendor]:
    """A server on loopback that answers every request, and notes what it read."""
    with hostile_vendor(lambda _: Reply(body=b"{}", headers={"Content-Type": JSON})) as served:
        served.url += "/v1/activation"
        yield served


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every ``sendall`` of the phone's connections (plain HTTP: made inside ``request``)."""
    noted: list[bytes] = []
    connect = deadline._NotedHTTPConnection.connect

    def counted(self: Any) -> None:
        connect(self)
        self.sock = _CountingSocket(self.sock, noted)

    monkeypatch.setattr(deadline._NotedHTTPConnection, "connect", counted)
    return noted


def _post(session: requests.Session, url: str, body: Any, length: int) -> requests.Response:
    prepared = prepare_post(url, b"", None)
    prepared.body = body
    prepared.headers["Content-Length"] = str(length)
    adapter = session.get_adapter(url)
    response = adapter.send(prepared, stream=False, timeout=5, verify=True, cert=None, proxies={})
    return response


def _read_as_sent(seen: SeenRequest, body: bytes) -> bool:
    """The server read the request the phone sent: its path, its length, its body."""
    length = seen.headers.get("Content-Length")
    return seen.path == "/v1/activation" and length == str(len(body)) and seen.body == body


def test_each_signed_post_is_one_write_of_head_and_body(
    vendor: HostileVendor, writes: list[bytes]
) -> None:
    session = new_session()
    bodies = [b'{"n":%d}' % i for i in range(3)]
    for body in bodies:
        assert _post(session, vendor.url, body, len(body)).status_code == 200
    session.close()
    assert len(writes) == 3  # one per request
    for write, body, seen in zip(writes, bodies, vendor.seen, strict=True):
        assert write.startswith(b"POST /v1/activation HTTP/1.1\r\n")
        assert write.endswith(b"\r\n\r\n" + body)
        assert _read_as_sent(seen, body)


@pytest.mark.parametrize(
    "body", [b"", b"x" * (MAX_JOINED + 1)], ids=["no body", "larger than joined"]
)
def test_other_requests_go_as_urllib3_sends_them(
    vendor: HostileVendor, writes: list[bytes], body: bytes
) -> None:
    session = new_session()
    assert _post(session, vendor.url, body, len(body)).status_code == 200
    session.close()
    expected = 2 if body else 1  # head, then the body; or the head alone
    assert len(writes) == expected
    assert b"".join(writes).endswith(b"\r\n\r\n" + body)
    assert _read_as_sent(vendor.seen[0], body)


def test_a_streamed_body_is_not_held(vendor: HostileVendor, writes: list[bytes]) -> None:
    session = new_session()
    body = b'{"streamed":true}'
    assert _post(session, vendor.url, io.BytesIO(body), len(body)).status_code == 200
    session.close()
    assert len(writes) >= 2 and writes[0].endswith(b"\r\n\r\n")
    assert _read_as_sent(vendor.seen[0], body)


def test_a_connection_called_with_positional_headers_joins_them_too(
    vendor: HostileVendor, writes: list[bytes]
) -> None:
    conn = deadline._NotedHTTPConnection(*address(vendor.url))
    conn.request("POST", "/v1/activation", b'{"p":1}', {"Content-Type": "application/json"})
    assert conn.getresponse().status == 200
    conn.close()
    assert len(writes) == 1 and writes[0].endswith(b'\r\n\r\n{"p":1}')
    assert b"content-type: application/json" in writes[0].lower()
    assert _read_as_sent(vendor.seen[0], b'{"p":1}')
    assert vendor.seen[0].headers.get("Content-Type") == "application/json"
