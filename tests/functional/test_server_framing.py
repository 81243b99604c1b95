"""HTTP framing errors, from a raw socket: every one is a JSON ``ErrorBody``, with both parsers.

uvicorn answered them itself in plain text (PROTOCOL.md section 9 says every error is JSON).
The server runs on httptools (uvicorn's "auto" here) or h11 (where httptools is missing); each
error class below is one both parsers refuse. A header block larger than 64 KiB is 431.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.connections import MAX_HEADER_BYTES, HttpParser
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.raw_http import RawAnswer, connect, exchange, parse, read_to_end
from tests.support.signed_client import SEPT_2021

POST = b"POST /v1/activation HTTP/1.1\r\nHost: vendor\r\n"
FRAMING_ERRORS = {
    "request line": b"GARBAGE\r\n\r\n",
    "request target": b"GET v1 health HTTP/1.1\r\nHost: vendor\r\n\r\n",
    "space in a header name": b"GET /v1/health HTTP/1.1\r\nHost: vendor\r\nBad Header: 1\r\n\r\n",
    "space before the colon": b"GET /v1/health HTTP/1.1\r\nHost: vendor\r\nX-A : 1\r\n\r\n",
    "header line without a colon": b"GET /v1/health HTTP/1.1\r\nHost: vendor\r\nNoColon\r\n\r\n",
    "NUL in a header value": b"GET /v1/health HTTP/1.1\r\nHost: vendor\r\nX-A: a\x00b\r\n\r\n",
    "Content-Length not a number": POST + b"Content-Length: abc\r\n\r\n",
    "two different Content-Lengths": POST + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    # httptools: past 64 bits; h11: more digits than Python's int() reads
    "Content-Length of 5000 digits": POST + b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n",
    "chunk size not hex": POST + b"Transfer-Encoding: chunked\r\n\r\nZZ\r\nab\r\n0\r\n\r\n",
    "no CRLF after a chunk": POST + b"Transfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n",
    "unknown Transfer-Encoding": POST + b"Transfer-Encoding: gzip\r\n\r\n",
}


@pytest.fixture(scope="module", params=["httptools", "h11"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EmbeddedVendorServer]:
    parser: HttpParser = request.param
    tmp_path: Path = tmp_path_factory.mktemp(parser)
    Factory.open(tmp_path / "factory")
    settings = ServerSettings(data_dir=tmp_path / "vendor", port=0)
    with EmbeddedVendorServer(
        settings, clock=FixedClock(SEPT_2021), http_parser=parser, log_level="critical"
    ) as running:
        yield running


def _assert_json_error(answer: RawAnswer | None, status: int, code: str) -> dict[str, str]:
    assert answer is not None, "the server closed without answering"
    assert answer.status == status, answer
    assert answer.headers["content-type"] == "application/json"
    assert answer.headers["connection"] == "close"
    error: dict[str, str] = answer.json()["error"]
    assert error["code"] == code
    return error


@pytest.mark.parametrize("raw", FRAMING_ERRORS.values(), ids=FRAMING_ERRORS.keys())
def test_a_framing_error_is_a_json_400(server: EmbeddedVendorServer, raw: bytes) -> None:
    before = server.store.counts()
    error = _assert_json_error(exchange(server.url, raw), 400, "malformed_request")
    assert error["message"].startswith("invalid HTTP request: ")
    assert server.store.counts() == before


def test_a_header_block_over_the_limit_is_431(server: EmbeddedVendorServer) -> None:
    # Still arriving when it passes the limit (h11 checks only then; httptools counts always).
    raw = b"GET /v1/health HTTP/1.1\r\nHost: vendor\r\nX-Padding: " + b"a" * (
        MAX_HEADER_BYTES + 4096
    )
    with connect(server.url) as sock:
        sock.sendall(raw)
        answer = parse(read_to_end(sock))
    error = _assert_json_error(answer, 431, "headers_too_large")
    assert str(MAX_HEADER_BYTES) in error["message"]


def test_a_whole_header_block_over_the_limit_is_431_with_httptools(
    server: EmbeddedVendorServer,
) -> None:
    if server.http_parser != "httptools":
        pytest.skip("h11 parses a complete block that came in one read (at most 256 KiB)")
    padding = b"X-Padding: " + b"a" * 1000 + b"\r\n"
    raw = b"GET /v1/health HTTP/1.1\r\nHost: vendor\r\n" + padding * 100 + b"\r\n"
    _assert_json_error(exchange(server.url, raw), 431, "headers_too_large")


def test_a_well_formed_request_after_the_errors_is_served(server: EmbeddedVendorServer) -> None:
    answer = exchange(
        server.url, b"GET /v1/health HTTP/1.1\r\nHost: vendor\r\nConnection: close\r\n\r\n"
    )
    assert answer is not None and answer.status == 200
    assert answer.json()["status"] == "ok"


def test_answers_keep_their_date_and_do_not_name_the_server_software(
    server: EmbeddedVendorServer,
) -> None:
    # No "server: uvicorn": the vendor does not advertise what it runs, and every phone parses
    # one header fewer per answer (docs/decisions/no-server-header.md). Date stays (RFC 9110).
    for request in (
        b"GET /v1/health HTTP/1.1\r\nHost: vendor\r\nConnection: close\r\n\r\n",
        FRAMING_ERRORS["request line"],
    ):
        answer = exchange(server.url, request)
        assert answer is not None and "date" in answer.headers, answer
        assert "server" not in answer.headers, answer
