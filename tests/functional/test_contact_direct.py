"""The device contacts' own way in (``server_stub/api/direct.py``) answers as the whole stack did.

Each request below goes to one real server twice: once by the direct way (``app.direct``, the
default) and once through FastAPI's and Starlette's stack, with everything but the ``date``
header compared. A spy on the stack proves which way each went: a contact POST must not reach it
by the direct way (so these tests fail if the shortcut is gone) and must reach it otherwise.
Cases: every refusal a client can cause before, during and after authentication (length, size,
chunking, nesting, JSON, schema, signature, claims, replay, a slow body), a server fault, and the
requests the direct way must leave to the stack (another method, another path).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from starlette.types import ASGIApp, Receive, Scope, Send

from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.contact import ACTIVATION_PATH, CHECKIN_PATH
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.messages import MAX_BODY_BYTES, ActivationRequest
from server_stub.api.app import build_app, shared_app
from server_stub.api.direct import VendorApp
from server_stub.api.routes import contact
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.raw_http import RawAnswer, connect, ended, exchange, parse
from tests.support.signed_client import (
    SEPT_2021,
    DeviceIdentity,
    new_nonce,
    send,
    session,
    sim,
)

#: what two answers may differ in: the time they were sent
_VARYING = frozenset({"date"})
Answer = tuple[int, tuple[tuple[str, str], ...], bytes]


class _StackSpy:
    """Counts the requests that enter the app's middleware stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls += 1
        await self.app(scope, receive, send)


@dataclass
class Served:
    """A real server of an app of its own (``app.direct`` is switched per request here, which
    the process's shared app must never see), with a spy on the app's stack."""

    server: EmbeddedVendorServer
    app: VendorApp
    spy: _StackSpy

    @property
    def url(self) -> str:
        return self.server.url

    def both_ways(self, ask: Callable[[], Answer], *, direct: bool = True) -> list[Answer]:
        """``ask`` by the direct way, then through the stack; ``direct``: whether the first
        is expected to skip the stack (False for a request the direct way leaves to it)."""
        answers = []
        for way in (True, False):
            self.app.direct = way
            before = self.spy.calls
            try:
                answers.append(ask())
            finally:
                self.app.direct = True
            went_through_stack = self.spy.calls > before
            assert went_through_stack == (not (way and direct)), (way, answers[-1])
        return answers


@contextmanager
def _served(tmp_path: Path, **settings: Any) -> Iterator[Served]:
    app = build_app()
    config = ServerSettings(data_dir=tmp_path / "vendor", port=0, **settings)
    with EmbeddedVendorServer(
        config, clock=FixedClock(SEPT_2021), app=app, log_level="critical"
    ) as server:
        stack = app.middleware_stack or app.build_middleware_stack()
        spy = app.middleware_stack = _StackSpy(stack)
        yield Served(server, app, spy)


@pytest.fixture
def served(tmp_path: Path, factory: Factory) -> Iterator[Served]:
    """A server of a vendor app of its own (``factory``: the root it trusts must exist)."""
    with _served(tmp_path) as served:
        yield served


@pytest.fixture
def device(factory: Factory) -> DeviceIdentity:
    return DeviceIdentity.issue(factory)


def _answer(response: requests.Response) -> Answer:
    headers = tuple(
        sorted((k.lower(), v) for k, v in response.headers.items() if k.lower() not in _VARYING)
    )
    return response.status_code, headers, response.content


def _raw(answer: RawAnswer | None) -> Answer:
    assert answer is not None
    headers = tuple(sorted((k, v) for k, v in answer.headers.items() if k not in _VARYING))
    return answer.status, headers, answer.body


def _same(answers: list[Answer], status: int) -> dict[str, Any]:
    direct, stacked = answers
    assert direct == stacked
    assert direct[0] == status, direct
    assert ("content-type", "application/json") in direct[1]
    error: dict[str, Any] = json.loads(direct[2])["error"]
    return error


def test_the_vendor_app_takes_both_contacts_the_direct_way() -> None:
    assert shared_app().direct_paths() == {ACTIVATION_PATH, CHECKIN_PATH}
    assert build_app().direct_paths() == {ACTIVATION_PATH, CHECKIN_PATH}


def test_the_direct_way_steps_aside_when_the_app_is_built_otherwise() -> None:
    class Other:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

    more_middleware = build_app()
    more_middleware.add_middleware(Other)  # type: ignore[arg-type]
    debugging = build_app()
    debugging.debug = True
    for app in (more_middleware, debugging):
        assert app.direct_paths() == frozenset()


@pytest.mark.parametrize("path", [ACTIVATION_PATH, CHECKIN_PATH])
def test_refusals_before_authentication_are_the_stacks(
    served: Served, device: DeviceIdentity, path: str
) -> None:
    def posting(body: bytes | list[bytes]) -> Callable[[], Answer]:
        def ask() -> Answer:
            data = iter(body) if isinstance(body, list) else body  # a list goes chunked
            headers = {"Content-Type": "application/json"}
            return _answer(
                session().post(served.url + path, data=data, headers=headers, timeout=10)
            )

        return ask

    cases = {
        "unsigned": (posting(device.request().encode()), 401, "signature_invalid"),
        "empty": (posting(b""), 401, "signature_invalid"),
        "nested": (posting(b"[" * 1000 + b"]" * 1000), 400, "malformed_request"),
        "too large": (posting(b"{" + b" " * MAX_BODY_BYTES + b"}"), 413, "payload_too_large"),
        "too large, chunked": (posting([b" " * 1024] * 20), 413, "payload_too_large"),
    }
    for name, (ask, status, code) in cases.items():
        assert _same(served.both_ways(ask), status)["code"] == code, name


@pytest.mark.parametrize("path", [ACTIVATION_PATH, CHECKIN_PATH])
def test_refusals_of_authentication_are_the_stacks(
    served: Served, device: DeviceIdentity, path: str
) -> None:
    url = served.url + path

    def signed(
        body: bytes | ActivationRequest, *, swapped: bytes | None = None, nonce: str = ""
    ) -> Callable[[], Answer]:
        """Signed by ``device`` with the body's nonce (a request's), or ``nonce``."""

        def ask() -> Answer:
            raw = body.encode() if isinstance(body, ActivationRequest) else body
            used = nonce or (body.nonce if isinstance(body, ActivationRequest) else new_nonce())
            wire = device.sign(url, raw, created=SEPT_2021, nonce=used)
            return _answer(send(wire, body=swapped))

        return ask

    good = device.request([sim("262-01")])
    cases = {
        "not JSON": (signed(b"not json"), 400, "malformed_request"),
        "not a request": (signed(b'{"device": 1}'), 400, "malformed_request"),
        "body swapped after signing": (
            signed(good, swapped=device.request([sim("262-02")]).encode()),
            401,
            "signature_invalid",
        ),
        "nonce not the body's": (signed(good, nonce=new_nonce()), 401, "signature_invalid"),
        "claims not the certificate's": (
            signed(device.request([sim("262-01")], serial="RN9S21099999")),
            403,
            "certificate_invalid",
        ),
    }
    for name, (ask, status, code) in cases.items():
        assert _same(served.both_ways(ask), status)["code"] == code, name


def test_an_answer_and_a_replay_are_the_stacks(served: Served, device: DeviceIdentity) -> None:
    verdicts: list[requests.Response] = []

    def ask() -> Answer:
        request = device.request([sim("262-01")])
        # A query string is part of the signed target URI, whichever way the request goes.
        url = served.url + ACTIVATION_PATH + "?probe=1"
        wire = device.sign(url, request.encode(), created=SEPT_2021, nonce=request.nonce)
        verdicts.append(send(wire))
        return _answer(send(wire))  # the same request again

    assert _same(served.both_ways(ask), 409)["code"] == "nonce_replayed"
    assert [v.status_code for v in verdicts] == [200, 200], [v.text for v in verdicts]
    direct, stacked = ({k.lower() for k in v.headers} - _VARYING for v in verdicts)
    assert direct == stacked
    assert verdicts[0].json().keys() == verdicts[1].json().keys()


def test_a_server_fault_is_the_stacks(
    served: Served, device: DeviceIdentity, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fails(*args: object) -> None:
        raise RuntimeError("the engine broke: sqlite says no")

    monkeypatch.setattr(contact, "answer_contact", fails)

    def ask() -> Answer:
        request = device.request([sim("262-01")])
        url = served.url + CHECKIN_PATH
        wire = device.sign(url, request.encode(), created=SEPT_2021, nonce=request.nonce)
        return _answer(send(wire))

    error = _same(served.both_ways(ask), 500)
    assert error["code"] == "internal_error"
    assert "sqlite" not in error["message"]


def test_declared_lengths_over_the_limit_are_the_stacks(served: Served) -> None:
    head = f"POST {ACTIVATION_PATH} HTTP/1.1\r\nHost: vendor\r\nConnection: close\r\n"
    large = MAX_BODY_BYTES + 100
    # Read and dropped up to a limit, then refused; or, far larger, refused before reading.
    for rest in (
        f"Content-Length: {large}\r\n\r\n" + " " * large,
        "Content-Length: 5000000\r\n\r\n",
    ):
        raw = (head + rest).encode()

        def ask(raw: bytes = raw) -> Answer:
            return _raw(exchange(served.url, raw))

        assert _same(served.both_ways(ask), 413)["code"] == "payload_too_large"


def test_what_the_direct_way_leaves_to_the_stack(served: Served) -> None:
    http = session()
    for method, path, status in (
        ("GET", ACTIVATION_PATH, 405),
        ("PUT", CHECKIN_PATH, 405),
        ("POST", ACTIVATION_PATH + "/", 404),
        ("POST", "/v1/activations", 404),
    ):

        def ask(method: str = method, path: str = path) -> Answer:
            return _answer(http.request(method, served.url + path, timeout=10))

        _same(served.both_ways(ask, direct=False), status)


@pytest.mark.usefixtures("factory")
def test_a_body_that_stalls_is_the_connections_408(tmp_path: Path) -> None:
    with _served(tmp_path, request_timeout=0.5) as served:

        def ask() -> Answer:
            with connect(served.url) as sock:
                sock.sendall(f"POST {ACTIVATION_PATH} HTTP/1.1\r\nHost: v\r\n".encode())
                sock.sendall(b"Content-Length: 100\r\n\r\n{")
                data, closed = ended(sock, timeout=5)
            assert closed
            return _raw(parse(data))

        # The app hears a disconnect while reading the body, and the connection answers.
        assert _same(served.both_ways(ask), 408)["code"] == "request_timeout"
