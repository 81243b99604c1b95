"""Deeply nested JSON, over real HTTP: a 400 ``malformed_request``, never a 500, signed or not.

About a thousand levels (2 kB of brackets) used to end in a ``RecursionError`` inside ``json``
and a 500, before any signature was checked. Each refusal also leaves the store as it was.
"""

from __future__ import annotations

import json

import pytest
import requests

from phone_sim.protocol.identity import Factory
from server_stub.api.nesting import MAX_JSON_DEPTH
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.signed_client import (
    ACTIVATION_PATH,
    CHECKIN_PATH,
    SEPT_2021,
    DeviceIdentity,
    new_nonce,
    send,
    session,
)


def nested(kind: str, depth: int) -> bytes:
    """``depth`` levels of arrays (``[[[...]]]``) or objects (``{"a":{"a":...}}``)."""
    if kind == "arrays":
        return b"[" * depth + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


def _assert_400_nesting(response: requests.Response) -> None:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "malformed_request"
    assert f"deeper than {MAX_JSON_DEPTH} levels" in error["message"]


@pytest.mark.parametrize("path", [ACTIVATION_PATH, CHECKIN_PATH])
@pytest.mark.parametrize("kind", ["arrays", "objects"])
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_thousand_levels_are_400_signed_or_not(
    vendor_server: EmbeddedVendorServer, factory: Factory, path: str, kind: str, signed: bool
) -> None:
    body = nested(kind, 1000)
    assert len(body) < 16 * 1024  # under the size limit: only the nesting can refuse it
    before = vendor_server.store.counts()
    url = vendor_server.url + path
    if signed:
        # A real device's valid signature over the nested body: what reached json.loads.
        device = DeviceIdentity.issue(factory)
        response = send(device.sign(url, body, created=SEPT_2021, nonce=new_nonce()))
    else:
        headers = {"Content-Type": "application/json"}
        response = session().post(url, data=body, headers=headers, timeout=10)
    _assert_400_nesting(response)
    assert vendor_server.store.counts() == before


@pytest.mark.parametrize("kind", ["arrays", "objects"])
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_hundred_thousand_levels_are_refused_by_size_first(
    vendor_server: EmbeddedVendorServer, factory: Factory, kind: str, signed: bool
) -> None:
    # 200 kB and more: the size limit (check 1) answers before anything is parsed.
    body = nested(kind, 100_000)
    url = vendor_server.url + ACTIVATION_PATH
    if signed:
        device = DeviceIdentity.issue(factory)
        response = send(device.sign(url, body, created=SEPT_2021, nonce=new_nonce()))
    else:
        response = session().post(url, data=body, timeout=10)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("kind", ["arrays", "objects"])
@pytest.mark.parametrize("token", [False, True], ids=["no-token", "token"])
def test_admin_bodies_nested_a_thousand_levels_are_400(
    vendor_server: EmbeddedVendorServer, kind: str, token: bool
) -> None:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {vendor_server.admin_token.value}"
    before = vendor_server.store.counts()
    for path in ("/admin/release", "/admin/devices/RN9S21090001/lock", "/admin/clock/advance"):
        response = session().post(
            vendor_server.url + path, data=nested(kind, 1000), headers=headers, timeout=10
        )
        _assert_400_nesting(response)
    assert vendor_server.store.counts() == before


def test_the_limit_is_exact_and_brackets_in_strings_do_not_count(
    vendor_server: EmbeddedVendorServer,
) -> None:
    url = vendor_server.url + ACTIVATION_PATH
    http = session()
    # At the limit the body passes the nesting check and meets the next one (unsigned: 401).
    at_limit = http.post(url, data=nested("arrays", MAX_JSON_DEPTH), timeout=10)
    assert at_limit.json()["error"]["code"] == "signature_invalid"
    _assert_400_nesting(http.post(url, data=nested("arrays", MAX_JSON_DEPTH + 1), timeout=10))
    in_a_string = json.dumps({"text": "[{" * 2000, "quote": '"[' * 100}).encode()
    response = http.post(url, data=in_a_string, timeout=10)
    assert response.json()["error"]["code"] == "signature_invalid"
