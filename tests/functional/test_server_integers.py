"""Every integer the API takes, at and past what the server can hold: a 4xx JSON, never a 500.

The integers: ``after_id`` and ``limit`` of ``GET /admin/audit``, ``seconds`` of
``POST /admin/clock/advance`` (and where repeated advances would take the clock), ``protocol``
and each SIM's ``slot`` in a device request, the signature's ``created``. (``Content-Length`` is
the parsers': ``test_server_framing.py``.) SQLite holds signed 64-bit integers; a larger
``after_id`` was a 500 (``OverflowError``) until the query bound it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from phone_sim.protocol.canonical import canonical_json
from phone_sim.protocol.clock import SimulatedClock
from phone_sim.protocol.identity import Factory
from server_stub.api.routes.admin_system import LATEST_TIME
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.signed_client import (
    ACTIVATION_PATH,
    SEPT_2021,
    DeviceIdentity,
    new_nonce,
    send,
    session,
    sim,
)

INT64_MAX = 2**63 - 1
TEN_YEARS = 10 * 365 * 86_400


@pytest.fixture
def token(vendor_server: EmbeddedVendorServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {vendor_server.admin_token.value}"}


def _status(response: requests.Response) -> tuple[int, str]:
    assert response.headers["content-type"] == "application/json", response.text
    body = response.json()
    return response.status_code, body["error"]["code"] if "error" in body else "ok"


def test_the_reported_audit_query_is_a_400(
    vendor_server: EmbeddedVendorServer, token: dict[str, str]
) -> None:
    url = vendor_server.url + "/admin/audit?limit=827&after_id=12296584133561651057131520"
    response = session().get(url, headers=token, timeout=5)
    assert _status(response) == (400, "malformed_request")
    assert "after_id" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("after_id", "expected"),
    [
        (0, 200),
        (INT64_MAX, 200),
        (INT64_MAX + 1, 400),
        (2**64, 400),
        (10**30, 400),
        (-1, 400),
        (-(2**63) - 1, 400),
    ],
)
def test_audit_after_id(
    vendor_server: EmbeddedVendorServer, token: dict[str, str], after_id: int, expected: int
) -> None:
    response = session().get(
        vendor_server.url + "/admin/audit", params={"after_id": after_id}, headers=token, timeout=5
    )
    assert _status(response)[0] == expected, response.text


@pytest.mark.parametrize(
    ("limit", "expected"),
    [(1, 200), (1000, 200), (0, 400), (1001, 400), (INT64_MAX + 1, 400), (-(2**64), 400)],
)
def test_audit_limit(
    vendor_server: EmbeddedVendorServer, token: dict[str, str], limit: int, expected: int
) -> None:
    response = session().get(
        vendor_server.url + "/admin/audit", params={"limit": limit}, headers=token, timeout=5
    )
    assert _status(response)[0] == expected, response.text


@pytest.fixture
def simulated(tmp_path: Any, factory: Factory) -> Iterator[EmbeddedVendorServer]:
    settings = ServerSettings(data_dir=tmp_path / "vendor", port=0)
    with EmbeddedVendorServer(settings, clock=SimulatedClock(SEPT_2021, speed=0)) as server:
        yield server


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (1, 200),
        (TEN_YEARS, 200),
        (TEN_YEARS + 1, 400),
        (0, 400),
        (INT64_MAX + 1, 400),
        (2**64, 400),
        (-(2**63), 400),
        (1e30, 400),
    ],
)
def test_clock_advance_seconds(
    simulated: EmbeddedVendorServer, seconds: float, expected: int
) -> None:
    token = {"Authorization": f"Bearer {simulated.admin_token.value}"}
    before = simulated.store.counts()
    response = session().post(
        simulated.url + "/admin/clock/advance",
        data=json.dumps({"seconds": seconds}),
        headers={**token, "Content-Type": "application/json"},
        timeout=5,
    )
    assert _status(response)[0] == expected, response.text
    if expected != 200:  # a refusal writes nothing, not even an audit entry
        assert simulated.store.counts() == before


def test_the_clock_cannot_be_advanced_past_the_year_9999(
    simulated: EmbeddedVendorServer, factory: Factory
) -> None:
    token = {"Authorization": f"Bearer {simulated.admin_token.value}"}
    http = session()
    # The clock the server shares is moved to a year before the limit (800 advances over HTTP
    # would take seconds), then advanced through the API until it refuses.
    assert isinstance(simulated.clock, SimulatedClock)
    simulated.clock.advance(LATEST_TIME - 365 * 86_400 - simulated.clock.now())
    refused = None
    for _ in range(3):
        response = http.post(
            simulated.url + "/admin/clock/advance",
            json={"seconds": 200 * 86_400},
            headers=token,
            timeout=5,
        )
        if response.status_code != 200:
            refused = response
            break
    assert refused is not None and _status(refused) == (409, "clock_not_adjustable")
    assert "9999" in refused.json()["error"]["message"]
    # A device contact at the latest time is decided (its certificate has expired), not a 500.
    now = http.get(simulated.url + "/admin/clock", headers=token, timeout=5).json()["now"]
    device = DeviceIdentity.issue(factory)
    request = device.request([sim("262-01")])
    url = simulated.url + ACTIVATION_PATH
    contact = send(device.sign(url, request.encode(), created=now, nonce=request.nonce))
    assert _status(contact) == (403, "certificate_invalid")


def _signed_body(
    server: EmbeddedVendorServer, device: DeviceIdentity, body: dict[str, Any], *, created: int
) -> requests.Response:
    url = server.url + ACTIVATION_PATH
    # Canonical bytes (PROTOCOL.md section 1), so that only the value under test is wrong.
    return send(device.sign(url, canonical_json(body), created=created, nonce=body["nonce"]))


@pytest.mark.parametrize("value", [INT64_MAX + 1, 2**64, -(2**63) - 1, 10**400, 0, 3])
def test_the_protocol_version(
    vendor_server: EmbeddedVendorServer, factory: Factory, value: int
) -> None:
    device = DeviceIdentity.issue(factory)
    body = device.request([sim("262-01")]).model_dump(mode="json") | {"protocol": value}
    before = vendor_server.store.counts()
    response = _signed_body(vendor_server, device, body, created=SEPT_2021)
    assert _status(response) == (400, "malformed_request")
    assert vendor_server.store.counts() == before


@pytest.mark.parametrize("value", [INT64_MAX + 1, 2**64, -(2**63) - 1, 10**400, 0, 3])
def test_a_sim_slot(vendor_server: EmbeddedVendorServer, factory: Factory, value: int) -> None:
    device = DeviceIdentity.issue(factory)
    body = device.request([sim("262-01")]).model_dump(mode="json")
    body["sims"][0]["slot"] = value
    before = vendor_server.store.counts()
    response = _signed_body(vendor_server, device, body, created=SEPT_2021)
    assert _status(response) == (400, "malformed_request")
    assert vendor_server.store.counts() == before


@pytest.mark.parametrize(
    ("created", "code"),
    [
        (999_999_999_999_999, "signature_invalid"),  # the largest a structured field carries:
        (-999_999_999_999_999, "signature_invalid"),  # ... no date either way
        (INT64_MAX + 1, "signature_invalid"),  # not a structured-field integer
        (2**64, "signature_invalid"),
    ],
)
def test_the_signatures_created(
    vendor_server: EmbeddedVendorServer, factory: Factory, created: int, code: str
) -> None:
    device = DeviceIdentity.issue(factory)
    request = device.request([sim("262-01")], nonce=new_nonce())
    body = request.model_dump(mode="json")
    before = vendor_server.store.counts()
    response = _signed_body(vendor_server, device, body, created=created)
    assert _status(response) == (401, code)
    assert vendor_server.store.counts() == before
