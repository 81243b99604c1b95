"""The server's refusals that ``test_server_http.py`` does not already show, over real HTTP.

* Signatures that verify but do not cover what the protocol requires (method, target URI,
  content digest, created, nonce, alg). They are made here by hand from RFC 9421 section 2.5,
  not by the library the server uses, so a gap in how the server drives it would show.
* Certificates expired or not yet valid at the server's time; an invalid MNC.
* Every operation answers an oversized body with 413, and declares it (and every other status it
  can send) in its OpenAPI schema.
* The admin API from a non-loopback address: refused unless the server is configured for it.

Every refusal is a JSON error, and the database gains no row.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from fastapi import Request

from phone_sim.protocol.identity import DeviceClaims, Factory
from phone_sim.protocol.imei import make_imei
from server_stub.api.app import MAX_POLICY_BYTES
from server_stub.api.auth import admin_operator
from server_stub.errors import AdminForbidden, AdminUnauthorized
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.signed_client import (
    ACTIVATION_PATH,
    CHECKIN_PATH,
    SEPT_2021,
    DeviceIdentity,
    session,
    sim,
)

ALG = "ecdsa-p256-sha256"


@pytest.fixture
def device(factory: Factory) -> DeviceIdentity:
    return DeviceIdentity.issue(factory)


@pytest.fixture
def unchanged(vendor_server: EmbeddedVendorServer) -> Iterator[None]:
    before = vendor_server.store.counts()
    yield
    assert vendor_server.store.counts() == before


def assert_error(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == code


def _digest(body: bytes) -> str:
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def sign_by_hand(
    device: DeviceIdentity,
    url: str,
    body: bytes,
    *,
    components: tuple[str, ...] = ("@method", "@target-uri", "content-digest"),
    params: dict[str, Any],
    send_to: str | None = None,
) -> requests.Response:
    """POST ``body`` with a valid ECDSA P-256 signature over exactly ``components``/``params``.

    ``url`` is what the signature names; ``send_to`` (default ``url``) is where it goes.
    """
    values = {"@method": "POST", "@target-uri": url, "content-digest": _digest(body)}
    inner = " ".join(f'"{c}"' for c in components)
    rendered = "".join(
        f";{k}={v}" if isinstance(v, int) else f';{k}="{v}"' for k, v in params.items()
    )
    signature_params = f"({inner}){rendered}"
    lines = [f'"{c}": {values[c]}' for c in components]
    base = "\n".join([*lines, f'"@signature-params": {signature_params}'])
    r, s = decode_dss_signature(device.key.sign(base.encode(), ec.ECDSA(hashes.SHA256())))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    headers = {
        "Content-Type": "application/json",
        "Signature-Input": f"device={signature_params}",
        "Signature": f"device=:{base64.b64encode(raw).decode()}:",
    }
    if "content-digest" in components:
        headers["Content-Digest"] = values["content-digest"]
    return session().post(send_to or url, data=body, headers=headers, timeout=10)


def _params(device: DeviceIdentity, body_nonce: str, **changes: Any) -> dict[str, Any]:
    """The protocol's parameters; a change to None leaves that one out."""
    params: dict[str, Any] = {
        "created": SEPT_2021,
        "keyid": device.claims.serial,
        "alg": ALG,
        "nonce": body_nonce,
    }
    for key, value in changes.items():
        if value is None:
            params.pop(key)
        else:
            params[key] = value
    return params


def test_the_hand_made_signature_is_accepted(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity
) -> None:
    # The control for the cases below: complete coverage and parameters get a verdict.
    request = device.request([sim("262-01")])
    url = vendor_server.url + ACTIVATION_PATH
    response = sign_by_hand(device, url, request.encode(), params=_params(device, request.nonce))
    assert response.status_code == 200, response.text


MISSING_COVERAGE: dict[str, dict[str, Any]] = {
    "@method not covered": {"components": ("@target-uri", "content-digest")},
    "@target-uri not covered": {"components": ("@method", "content-digest")},
    "content-digest not covered": {"components": ("@method", "@target-uri")},
    "only content-digest covered": {"components": ("content-digest",)},
    "no created": {"params": {"created": None}},
    "no nonce": {"params": {"nonce": None}},
    "no alg": {"params": {"alg": None}},
    "alg ed25519 claimed": {"params": {"alg": "ed25519"}},
    "an unknown parameter": {"params": {"colour": "red"}},
    "signed for /v1/checkin": {"signed_path": CHECKIN_PATH},
    "signed for another host": {"signed_host": "http://vendor.example:8421"},
}


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("case", list(MISSING_COVERAGE))
def test_a_valid_signature_that_does_not_cover_what_it_must_is_401(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity, case: str
) -> None:
    spec = MISSING_COVERAGE[case]
    request = device.request([sim("262-01")])
    send_to = vendor_server.url + ACTIVATION_PATH
    signed_url = spec.get("signed_host", vendor_server.url) + spec.get(
        "signed_path", ACTIVATION_PATH
    )
    kwargs: dict[str, Any] = {"params": _params(device, request.nonce, **spec.get("params", {}))}
    if "components" in spec:
        kwargs["components"] = spec["components"]
    response = sign_by_hand(device, signed_url, request.encode(), send_to=send_to, **kwargs)
    assert_error(response, 401, "signature_invalid")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("offset", [-301, 301], ids=["5 min + 1 s old", "5 min + 1 s ahead"])
def test_a_created_outside_five_minutes_is_401_stale(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity, offset: int
) -> None:
    request = device.request([sim("262-01")])
    url = vendor_server.url + ACTIVATION_PATH
    params = _params(device, request.nonce, created=SEPT_2021 + offset)
    assert_error(sign_by_hand(device, url, request.encode(), params=params), 401, "signature_stale")


# --- certificates and values --------------------------------------------------------------------


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize(
    ("not_before", "days"),
    [(dt.datetime(2016, 1, 1, tzinfo=dt.UTC), 365), (dt.datetime(2022, 1, 1, tzinfo=dt.UTC), 365)],
    ids=["expired in 2017", "valid from 2022"],
)
def test_a_certificate_not_valid_at_the_server_time_is_403(
    vendor_server: EmbeddedVendorServer, factory: Factory, not_before: dt.datetime, days: int
) -> None:
    claims = DeviceClaims(
        serial="RN9S21090077",
        imeis=(make_imei("86781204", 77),),
        model="Redmi Note 9S",
        market="MI",
    )
    key = ec.generate_private_key(ec.SECP256R1())
    chain = factory.issue(
        claims, key.public_key(), not_before=not_before, validity=dt.timedelta(days=days)
    )
    device = DeviceIdentity(claims, key, chain)
    request = device.request([sim("262-01")])
    url = vendor_server.url + ACTIVATION_PATH
    response = sign_by_hand(device, url, request.encode(), params=_params(device, request.nonce))
    assert_error(response, 403, "certificate_invalid")


@pytest.mark.usefixtures("unchanged")
@pytest.mark.parametrize("mnc", ["1", "0001", "0a", "", " 01"])
def test_an_invalid_mnc_is_400(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity, mnc: str
) -> None:
    request = device.request([sim("262-01")])
    data = request.model_dump(mode="json")
    data["sims"][0]["home_mnc"] = mnc
    body = json.dumps(data).encode()
    url = vendor_server.url + ACTIVATION_PATH
    response = sign_by_hand(device, url, body, params=_params(device, request.nonce))
    assert_error(response, 400, "malformed_request")


# --- every operation: 413, and every status declared --------------------------------------------


def test_every_operation_refuses_an_oversized_body_and_declares_it(
    vendor_server: EmbeddedVendorServer,
) -> None:
    http = session()
    schema = http.get(vendor_server.url + "/openapi.json", timeout=5).json()
    body = b"x" * (MAX_POLICY_BYTES + 1)  # over the largest limit (the policy's)
    before = vendor_server.store.counts()
    for path, operations in schema["paths"].items():
        url = vendor_server.url + path.replace("{ident}", "RN9S21090001")
        for method, operation in operations.items():
            response = http.request(method, url, data=body, timeout=10)
            assert_error(response, 413, "payload_too_large")
            assert "413" in operation["responses"], (method, path)
            # The body limit also answers 400 (an unreadable Content-Length); admin routes add
            # 401 and 403 (their dependency) to what each one declares.
            assert "400" in operation["responses"], (method, path)
            if path.startswith("/admin/"):
                assert {"401", "403"} <= set(operation["responses"]), (method, path)
            for status, answer in operation["responses"].items():
                if status.startswith("4"):
                    ref = answer["content"]["application/json"]["schema"]["$ref"]
                    assert ref == "#/components/schemas/ErrorBody", (method, path, status)
    assert vendor_server.store.counts() == before


# --- the admin API from elsewhere ---------------------------------------------------------------


def _from(host: str) -> Request:
    return Request({"type": "http", "client": (host, 50000), "headers": [], "method": "GET"})


def test_a_non_loopback_admin_client_is_refused_unless_configured(
    vendor_server: EmbeddedVendorServer,
) -> None:
    context = vendor_server.context
    for host in ("203.0.113.9", "10.0.0.2", "::ffff:198.51.100.1", "2001:db8::1", None):
        request = _from(host) if host else Request({"type": "http", "headers": [], "method": "GET"})
        with pytest.raises(AdminForbidden):
            admin_operator(request, context, None)
    # Configured (--admin-remote): the address is let through to the token check.
    remote = dataclasses.replace(
        context, settings=dataclasses.replace(context.settings, admin_remote=True)
    )
    with pytest.raises(AdminUnauthorized):
        admin_operator(_from("203.0.113.9"), remote, None)
