"""Who the admin API thinks is calling, and what it answers before the token is checked.

* The client is the socket's peer: ``X-Forwarded-For`` from loopback changes nothing, and a
  loopback address claimed in it by another host is still refused (uvicorn's proxy headers,
  on by default, let a header decide who counted as loopback).
* No path under ``/admin`` redirects or answers 404/405 before authentication: with or without
  a trailing slash, no token is 401.
* ``OPTIONS`` (or any method a path does not take) is 405 with every method the path takes in
  ``Allow``, on every route (``/admin/policy`` is two routes, GET and PUT).
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from phone_sim.protocol.identity import Factory
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.signed_client import session
from tests.support.vendor import vendor_server

ADMIN_PATHS = [
    ("GET", "/admin/devices"),
    ("GET", "/admin/devices/RN10P0000001"),
    ("POST", "/admin/devices/RN10P0000001/lock"),
    ("POST", "/admin/devices/RN10P0000001/release"),
    ("POST", "/admin/release"),
    ("GET", "/admin/policy"),
    ("PUT", "/admin/policy"),
    ("GET", "/admin/audit"),
    ("GET", "/admin/clock"),
    ("POST", "/admin/clock/advance"),
    # Paths no route takes: refused the same way first.
    ("GET", "/admin"),
    ("GET", "/admin/nothing/here"),
    ("DELETE", "/admin/devices"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedVendorServer]:
    tmp_path = tmp_path_factory.mktemp("paths")
    Factory.open(tmp_path / "factory")
    with vendor_server(tmp_path) as running:
        yield running


def _token(server: EmbeddedVendorServer) -> dict[str, str]:
    return {"Authorization": f"Bearer {server.admin_token.value}"}


@pytest.mark.parametrize(("method", "path"), ADMIN_PATHS, ids=[f"{m} {p}" for m, p in ADMIN_PATHS])
@pytest.mark.parametrize("slash", ["", "/"], ids=["bare", "trailing-slash"])
def test_no_token_is_401_before_any_redirect_404_or_405(
    server: EmbeddedVendorServer, method: str, path: str, slash: str
) -> None:
    response = session().request(
        method, server.url + path + slash, json={}, allow_redirects=False, timeout=5
    )
    assert response.status_code == 401, (response.status_code, response.headers)
    assert "location" not in response.headers
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["code"] == "admin_unauthorized"


@pytest.mark.parametrize(
    ("method", "path"), ADMIN_PATHS[:10], ids=[m + " " + p for m, p in ADMIN_PATHS[:10]]
)
def test_with_the_token_a_trailing_slash_is_404_not_a_redirect(
    server: EmbeddedVendorServer, method: str, path: str
) -> None:
    before = server.store.counts()
    response = session().request(
        method,
        server.url + path + "/",
        json={},
        headers=_token(server),
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 404, response.text
    assert "location" not in response.headers
    assert response.json()["error"]["code"] == "not_found"
    assert server.store.counts() == before


def test_x_forwarded_for_from_loopback_changes_nothing(server: EmbeddedVendorServer) -> None:
    http = session()
    spoofed = {**_token(server), "X-Forwarded-For": "10.0.0.1", "X-Real-IP": "10.0.0.1"}
    listed = http.get(server.url + "/admin/devices", headers=spoofed, timeout=5)
    assert listed.status_code == 200, listed.text
    # The audit trail names the socket's peer, not the header's address.
    held = http.post(
        server.url + "/admin/devices/RN10P0000077/lock",
        json={"reason": "investigation"},
        headers=spoofed,
        timeout=5,
    )
    assert held.status_code == 200, held.text
    entries = http.get(
        server.url + "/admin/audit", params={"serial": "RN10P0000077"}, headers=spoofed, timeout=5
    ).json()["entries"]
    assert [e["actor"] for e in entries] == ["admin@127.0.0.1"]


def _non_loopback_address() -> str | None:
    """This machine's address on a non-loopback interface, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, a route is chosen
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@pytest.mark.parametrize("trusted", ["default", "*"], ids=["default-proxies", "any-proxy"])
def test_a_loopback_address_claimed_by_another_host_is_403(
    tmp_path: Path, factory: Factory, monkeypatch: pytest.MonkeyPatch, trusted: str
) -> None:
    address = _non_loopback_address()
    if address is None:
        pytest.skip("no non-loopback interface to connect from")
    if trusted != "default":
        # What an operator behind a proxy might set for uvicorn: trust any forwarder.
        monkeypatch.setenv("FORWARDED_ALLOW_IPS", trusted)
    settings = ServerSettings(data_dir=tmp_path / "vendor", host=address, port=0)
    with EmbeddedVendorServer(settings) as server:
        spoofed = {**_token(server), "X-Forwarded-For": "127.0.0.1"}
        # The connection comes from the interface's address: a real non-loopback peer.
        response = session().get(server.url + "/admin/devices", headers=spoofed, timeout=5)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "admin_forbidden"
    assert address in response.json()["error"]["message"]


def _routes(server: EmbeddedVendorServer) -> dict[str, set[str]]:
    """Every route's concrete path and the methods it takes (schema, plus FastAPI's docs)."""
    schema = requests.get(server.url + "/openapi.json", timeout=5).json()
    routes = {
        path.replace("{ident}", "RN10P0000001"): {method.upper() for method in operations}
        for path, operations in schema["paths"].items()
    }
    for docs in ("/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"):
        routes[docs] = {"GET", "HEAD"}
    return routes


def test_options_on_every_route_is_405_naming_every_method_the_path_takes(
    server: EmbeddedVendorServer,
) -> None:
    routes = _routes(server)
    assert routes["/admin/policy"] == {"GET", "PUT"}
    # OPTIONS, and a method no route takes at all (WebDAV's PROPFIND).
    for method, (path, methods) in itertools.product(["OPTIONS", "PROPFIND"], routes.items()):
        headers = _token(server) if path.startswith("/admin") else {}
        response = session().request(method, server.url + path, headers=headers, timeout=5)
        assert response.status_code == 405, (method, path, response.text)
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"]["code"] == "method_not_allowed"
        allow = {m.strip() for m in response.headers["allow"].split(",")}
        assert allow == methods, (method, path)
        if path.startswith("/admin"):  # and without the token, nothing is said of the path
            bare = session().request(method, server.url + path, timeout=5)
            assert bare.status_code == 401 and "allow" not in bare.headers, (method, path)
