"""What the real server answers a ``Content-Length`` that is not a number (PROTOCOL.md
section 6): the HTTP parser refuses it before the application sees the request, with the
protocol's JSON 400 (``server_stub/runtime/connections.py``), and nothing is written. Sent over
a raw socket: an HTTP client would not send it.
"""

from __future__ import annotations

import json
import socket

import pytest

from server_stub.runtime.embedded import EmbeddedVendorServer


def _raw_post(server: EmbeddedVendorServer, content_length: bytes) -> bytes:
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(
            b"POST /v1/activation HTTP/1.1\r\nHost: " + f"{host}:{port}".encode() + b"\r\n"
            b"Content-Type: application/json\r\nContent-Length: " + content_length + b"\r\n\r\n{}"
        )
        answer = b""
        while chunk := conn.recv(4096):
            answer += chunk
    return answer


@pytest.mark.parametrize("value", [b"abc", b"-1", b"12abc", b"1e3", b"0x10"])
def test_a_content_length_that_is_not_a_number_gets_a_json_400(
    vendor_server: EmbeddedVendorServer, value: bytes
) -> None:
    before = vendor_server.store.counts()
    head, _, body = _raw_post(vendor_server, value).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/json" in head.lower()
    assert json.loads(body)["error"]["code"] == "malformed_request"
    assert vendor_server.store.counts() == before
