"""Schemathesis against the vendor server's own OpenAPI schema, over real HTTP on loopback.

Three runs, each with a fixed seed (``derandomize``) and a bounded number of examples:

* **unsigned**: every operation, schema-valid and schema-violating inputs, no credentials;
* **signed**: the device endpoints with each generated body made to carry a real factory chain,
  the certified claims and a fresh nonce, then signed (RFC 9421) by the real device key, so the
  requests pass authentication and reach the decision code, the store and the verdict signer;
* **admin**: the operator API with the right bearer token, so it reaches the admin operations.

Every answer must come from the schema: no 5xx, a declared status, the declared content type,
a body matching the declared model. The signed run must also get verdicts (200) for most of its
schema-valid requests, or it would only be testing the authentication in front of the code.
"""

from __future__ import annotations

import collections
import json
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from phone_sim.protocol.canonical import canonical_json
from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory, chain_to_wire
from phone_sim.protocol.signing import WireRequest, sign_request
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.signed_client import SEPT_2021, DeviceIdentity, session

#: "zero server errors, zero schema violations"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
DEVICE_ENDPOINTS = ("/v1/activation", "/v1/checkin")


@schemathesis.serializer("application/toml")
def _toml(ctx: Any, value: Any) -> dict[str, bytes]:
    """PUT /admin/policy takes TOML text; negative runs may generate other JSON values."""
    if isinstance(value, bytes):
        return {"data": value}
    if isinstance(value, str):
        return {"data": value.encode("utf-8", "surrogatepass")}
    return {"data": json.dumps(value).encode()}


def _fuzz_settings(max_examples: int) -> Callable[[Any], Any]:
    # derandomize: the same examples on every run and in CI (a fixed seed, derived from the test).
    return settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedVendorServer]:
    Factory.open(tmp_path / "factory")
    settings_ = ServerSettings(data_dir=tmp_path / "vendor", port=0)
    with EmbeddedVendorServer(settings_, clock=FixedClock(SEPT_2021)) as running:
        yield running


def _schema(server: EmbeddedVendorServer) -> Any:
    return schemathesis.openapi.from_url(server.url + "/openapi.json")


def _strategy(schema: Any, paths: tuple[str, ...] | None = None) -> st.SearchStrategy[Case]:
    if paths is not None:
        schema = schema.include(path=list(paths))
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return st.one_of([schema.as_strategy(generation_mode=mode) for mode in modes])


def _call(case: Case, **kwargs: Any) -> Any:
    # A new connection per call: on a kept-alive one each answer waits out the client's delayed
    # ACK (~40 ms, Nagle on the server's two writes), which would make the runs slow, not wrong.
    with session() as http:  # trust_env=False: no proxy from the environment on loopback
        return case.call(session=http, **kwargs)


def _outcome(case: Case, response: Any) -> tuple[str, str, str, int]:
    mode = case.meta.generation.mode.value if case.meta is not None else "?"
    return (mode, case.method, case.path, response.status_code)


@pytest.mark.slow
def test_unsigned_requests_get_only_declared_answers(server: EmbeddedVendorServer) -> None:
    seen: collections.Counter[tuple[str, str, str, int]] = collections.Counter()
    schema = _schema(server)
    declared = {
        (method.upper(), path)
        for path, operations in schema.raw_schema["paths"].items()
        for method in operations
    }
    # Each operation its share of the examples: one draw over them all left one out once the
    # API grew (GET /admin/clock, with 250 derandomized examples over 25 operations).
    examples = max(8, 250 // len(declared))

    def check(case: Case) -> None:
        response = _call(case)
        seen[_outcome(case, response)] += 1
        case.validate_response(response, checks=CHECKS)
        if case.path.startswith("/admin/"):
            # No token: refused (a malformed body may be refused as such first), never served.
            assert response.status_code in (400, 401), response.text
        if case.path in DEVICE_ENDPOINTS:
            # Made-up Signature headers get as far as the certificate check at most (a body
            # over the limit is refused before any of it: 413).
            assert response.status_code in (400, 401, 403, 413), response.text

    before = server.store.counts()
    for method, path in sorted(declared):
        operation = schema.include(path=path, method=method)

        @_fuzz_settings(examples)
        @given(case=_strategy(operation))
        def run(case: Case) -> None:
            check(case)

        run()
    assert server.store.counts() == before, "an unauthenticated request wrote to the store"
    exercised = {(method, path) for _, method, path, _ in seen}
    assert exercised == declared  # every operation was exercised


class _SignAsDevice(requests.auth.AuthBase):
    """Signs whatever body goes out with the device key; the nonce is the body's, if it has one."""

    def __init__(self, device: DeviceIdentity) -> None:
        self.device = device

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else bytes(body)
        try:
            value = json.loads(raw)
            # A device sends canonical JSON (version 2 refuses anything else): so that the
            # generated values reach the decision, not only the form check.
            raw = canonical_json(value)
            request.body = raw
            request.prepare_content_length(raw)
            nonce = value["nonce"]
        except (ValueError, TypeError, KeyError, UnicodeEncodeError):
            nonce = None
        if not isinstance(nonce, str) or not nonce:
            nonce = secrets.token_urlsafe(18)
        wire = WireRequest(str(request.method), str(request.url), dict(request.headers), raw)
        sign_request(
            wire,
            key=self.device.key,
            key_id=self.device.claims.serial,
            created=SEPT_2021,
            nonce=nonce,
        )
        request.headers.update(wire.headers)
        return request


def _as_this_device(case: Case, device: DeviceIdentity) -> None:
    """Give a generated body the device's real chain, claims and a fresh nonce (in place).

    Everything else (SIMs, firmware, bootloader state, protocol, extra fields; any value in a
    schema-violating case) stays as generated.
    """
    body = case.body
    if not isinstance(body, dict):
        return
    body["certificates"] = chain_to_wire(device.chain)
    body["nonce"] = secrets.token_urlsafe(18)
    report = body.get("device")
    if isinstance(report, dict):
        claims = device.claims
        report.update(
            serial=claims.serial,
            imeis=list(claims.imeis),
            model=claims.model,
            market=claims.market,
        )


@pytest.mark.slow
def test_signed_requests_reach_the_decision_and_get_only_declared_answers(
    server: EmbeddedVendorServer, factory: Factory
) -> None:
    device = DeviceIdentity.issue(factory)
    auth = _SignAsDevice(device)
    seen: collections.Counter[tuple[str, str, str, int]] = collections.Counter()

    @_fuzz_settings(200)
    @given(case=_strategy(_schema(server), DEVICE_ENDPOINTS))
    def run(case: Case) -> None:
        _as_this_device(case, device)
        response = _call(case, auth=auth)
        seen[_outcome(case, response)] += 1
        case.validate_response(response, checks=CHECKS)
        if response.status_code == 200:
            # The verdict answers this device and this request.
            verdict = response.json()
            assert verdict["device_serial"] == device.claims.serial
            assert verdict["nonce"] == case.body["nonce"]

    run()
    positive = sum(n for (mode, *_), n in seen.items() if mode == "positive")
    verdicts = sum(n for (*_, status), n in seen.items() if status == 200)
    # Schema-valid bodies mostly pass authentication and get a verdict (some are refused by the
    # checks the schema cannot express: an IMEI's Luhn digit, unique SIM slots, both serving
    # fields or neither); if none did, the run would not have reached the decision code.
    assert verdicts >= positive // 2 > 0, dict(seen)
    stored = server.store.device(device.claims.serial)
    assert stored is not None and stored.last_sequence == verdicts
    assert len(server.store.verdicts(device.claims.serial)) == verdicts


@pytest.mark.slow
def test_the_admin_api_with_its_token_gets_only_declared_answers(
    server: EmbeddedVendorServer,
) -> None:
    seen: collections.Counter[tuple[str, str, str, int]] = collections.Counter()
    token = {"Authorization": f"Bearer {server.admin_token.value}"}
    admin_paths = tuple(
        path for path in _schema(server).raw_schema["paths"] if path.startswith("/admin/")
    )

    @_fuzz_settings(200)
    @given(case=_strategy(_schema(server), admin_paths))
    def run(case: Case) -> None:
        response = _call(case, headers=token)
        seen[_outcome(case, response)] += 1
        case.validate_response(response, checks=CHECKS)
        sent = response.request.headers.get("Authorization")
        if sent == token["Authorization"]:
            assert response.status_code not in (401, 403), response.text
        else:  # a schema-violating case may drop or spoil the credentials: then it is refused
            assert response.status_code in (400, 401), response.text

    run()
    assert any(status == 200 for *_, status in seen), dict(seen)
