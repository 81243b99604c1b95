"""A request's head and body leave the phone in one write (``phone_sim.client.one_write``).

Through the phone's own session, against a server on loopback that answers every request: each
request of a signed POST is one ``sendall`` on the socket, whole; requests with no body, with a
body too large to copy, or a body that is a stream still go, whole, as urllib3 sends them.
"""

from __future__ import annotations

import io
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from phone_sim.client import deadline
from phone_sim.client.one_write import MAX_JOINED
from phone_sim.client.transport import new_session, prepare_post

ANSWER = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"


def _serve(listener: socket.socket, received: list[bytes]) -> None:
    """Answer each request on each connection once its head and ``content-length`` are in."""
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return
        threading.Thread(target=_answer, args=(conn, received), daemon=True).start()


def _answer(conn: socket.socket, received: list[bytes]) -> None:
    buffer = b""
    with conn:
        while True:
            data = conn.recv(1 << 20)
            if not data:
                return
            buffer += data
            while b"\r\n\r\n" in buffer:
                head, _, rest = buffer.partition(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                length = sum(
                    int(line.split(b":", 1)[1])
                    for line in lines
                    if line.lower().startswith(b"content-length:")
                )
                if len(rest) < length:
                    break
                received.append(head + b"\r\n\r\n" + rest[:length])
                buffer = rest[length:]
                conn.sendall(ANSWER)


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
def server() -> Iterator[tuple[str, list[bytes]]]:
    listener = socket.create_server(("127.0.0.1", 0))
    received: list[bytes] = []
    threading.Thread(target=_serve, args=(listener, received), daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1/activation", received
    listener.close()


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


def _post(session: requests.Session, url: str, body: Any) -> requests.Response:
    prepared = prepare_post(url, b"", None)
    prepared.body = body
    if isinstance(body, bytes):
        prepared.headers["Content-Length"] = str(len(body))
    adapter = session.get_adapter(url)
    response = adapter.send(prepared, stream=False, timeout=5, verify=True, cert=None, proxies={})
    return response


def test_each_signed_post_is_one_write_of_head_and_body(
    server: tuple[str, list[bytes]], writes: list[bytes]
) -> None:
    url, received = server
    session = new_session()
    bodies = [b'{"n":%d}' % i for i in range(3)]
    for body in bodies:
        assert _post(session, url, body).status_code == 200
    session.close()
    assert len(writes) == 3  # one per request, on one kept-alive connection
    for write, body, request in zip(writes, bodies, received, strict=True):
        assert write.startswith(b"POST /v1/activation HTTP/1.1\r\n")
        assert write.endswith(b"\r\n\r\n" + body)
        assert write == request  # the server read exactly that request


@pytest.mark.parametrize(
    "body", [b"", b"x" * (MAX_JOINED + 1)], ids=["no body", "larger than joined"]
)
def test_other_requests_go_as_urllib3_sends_them(
    server: tuple[str, list[bytes]], writes: list[bytes], body: bytes
) -> None:
    url, received = server
    session = new_session()
    assert _post(session, url, body).status_code == 200
    session.close()
    expected = 2 if body else 1  # head, then the body; or the head alone
    assert len(writes) == expected
    assert b"".join(writes) == received[0]


def test_a_streamed_body_is_not_held(server: tuple[str, list[bytes]], writes: list[bytes]) -> None:
    url, received = server
    session = new_session()
    prepared = prepare_post(url, b"", None)
    prepared.body = io.BytesIO(b'{"streamed":true}')  # type: ignore[assignment]  # requests sends streams
    prepared.headers["Content-Length"] = "17"
    adapter = session.get_adapter(url)
    response = adapter.send(prepared, stream=False, timeout=5, verify=True, cert=None, proxies={})
    session.close()
    assert response.status_code == 200
    assert len(writes) >= 2 and writes[0].endswith(b"\r\n\r\n")
    assert received[0].endswith(b'\r\n\r\n{"streamed":true}')


def test_a_connection_called_with_positional_headers_joins_them_too(
    server: tuple[str, list[bytes]], writes: list[bytes]
) -> None:
    url, received = server
    port = int(url.split(":")[2].split("/")[0])
    conn = deadline._NotedHTTPConnection("127.0.0.1", port)
    conn.request("POST", "/v1/activation", b'{"p":1}', {"Content-Type": "application/json"})
    assert conn.getresponse().status == 200
    conn.close()
    assert len(writes) == 1 and writes[0].endswith(b'\r\n\r\n{"p":1}')
    assert b"content-type: application/json" in writes[0].lower()
    assert received == writes
