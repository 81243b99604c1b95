"""A man in the middle on loopback: forwards the phone's requests to the vendor and can tamper.

Tests put it between the real phone client and the real vendor server and change bytes on
the way, in either direction, to show that tampering changes nothing.
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Headers = dict[str, str]
#: (headers, body) -> (headers, body)
Tamper = Callable[[Headers, bytes], tuple[Headers, bytes]]
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def untouched(headers: Headers, body: bytes) -> tuple[Headers, bytes]:
    return headers, body


@dataclass
class Mitm:
    upstream: str
    tamper_request: Tamper = untouched
    tamper_response: Tamper = untouched
    seen: list[tuple[str, bytes, int, bytes]] = field(default_factory=list)
    url: str = ""


@contextmanager
def mitm_proxy(upstream: str) -> Iterator[Mitm]:
    """Serve a tampering proxy to ``upstream`` on an ephemeral loopback port."""
    state = Mitm(upstream)
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet test output
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers, body = state.tamper_request(headers, body)
            # The signed @target-uri names the URL the phone used; forward to the same path.
            conn = http.client.HTTPConnection(
                target.hostname or "127.0.0.1", target.port, timeout=10
            )
            headers["Host"] = self.headers.get("Host", "")
            conn.request("POST", self.path, body=body, headers=headers)
            upstream = conn.getresponse()
            rheaders = {k: v for k, v in upstream.getheaders() if k.lower() not in HOP_BY_HOP}
            rbody = upstream.read()
            conn.close()
            state.seen.append((self.path, body, upstream.status, rbody))
            rheaders, rbody = state.tamper_response(rheaders, rbody)
            self.send_response(upstream.status)
            for key, value in rheaders.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(rbody)))
            self.end_headers()
            self.wfile.write(rbody)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
