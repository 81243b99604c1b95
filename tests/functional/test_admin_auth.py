"""Who may use the admin API: bearer token, loopback only by default, and what OpenAPI says."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from starlette.requests import Request

from phone_sim.protocol.identity import Factory
from server_stub.api.auth import admin_operator
from server_stub.datadir.settings import ServerSettings
from server_stub.errors import AdminForbidden, AdminUnauthorized, SettingsError
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.signed_client import session
from tests.support.vendor import now, vendor_server

ADMIN_ROUTES = [
    ("GET", "/admin/devices", None),
    ("GET", "/admin/devices/RN10P0000001", None),
    ("POST", "/admin/devices/RN10P0000001/lock", {"reason": "investigation"}),
    ("POST", "/admin/devices/RN10P0000001/release", {"reason": "cleared"}),
    ("POST", "/admin/release", {"reason": "cleared"}),
    ("GET", "/admin/policy", None),
    ("PUT", "/admin/policy", None),
    ("GET", "/admin/audit", None),
    ("GET", "/admin/clock", None),
    ("POST", "/admin/clock/advance", {"seconds": 60}),
]


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedVendorServer]:
    """One server for the tests that only need refusals from it (starting one costs ~0.3 s)."""
    tmp_path = tmp_path_factory.mktemp("shared")
    Factory.open(tmp_path / "factory")
    with vendor_server(tmp_path) as s:
        yield s


@pytest.mark.parametrize(
    ("method", "path", "body"), ADMIN_ROUTES, ids=[f"{m} {p}" for m, p, _ in ADMIN_ROUTES]
)
@pytest.mark.parametrize("token", [None, "wrong-token", ""], ids=["missing", "wrong", "empty"])
def test_admin_api_refuses_a_missing_or_wrong_token(
    shared_server: EmbeddedVendorServer, method: str, path: str, body: object, token: str | None
) -> None:
    server = shared_server
    before = server.store.counts()
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    response = session().request(method, server.url + path, json=body, headers=headers, timeout=5)
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "admin_unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"
    assert server.store.counts() == before  # nothing happened, not even an audit entry


def test_the_right_token_is_accepted_in_any_case_of_bearer(server: EmbeddedVendorServer) -> None:
    headers = {"Authorization": f"bearer {server.admin_token.value}"}
    response = session().get(server.url + "/admin/clock", headers=headers, timeout=5)
    assert response.json() == {"now": now(server), "speed": 0.0, "simulated": True}


def _request_from(host: str) -> Request:
    return Request({"type": "http", "client": (host, 50000), "headers": [], "method": "GET"})


def test_non_loopback_clients_are_refused_unless_allowed(server: EmbeddedVendorServer) -> None:
    context = server.context
    with pytest.raises(AdminForbidden, match="--admin-remote"):
        admin_operator(_request_from("203.0.113.9"), context, None)
    # ... before the token is even looked at; loopback in every spelling is let through to it.
    for host in ("127.0.0.1", "::1", "::ffff:127.0.0.1"):
        with pytest.raises(AdminUnauthorized, match="missing admin token"):
            admin_operator(_request_from(host), context, None)


def _local_address() -> str | None:
    """This machine's address on a non-loopback interface, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: nothing is sent, a route is chosen
        except OSError:
            return None
        address: str = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@pytest.mark.parametrize("remote", [False, True], ids=["default", "admin-remote"])
def test_a_real_non_loopback_client(tmp_path: Path, factory: Factory, remote: bool) -> None:
    address = _local_address()
    if address is None:
        pytest.skip("no non-loopback interface to connect from")
    settings = ServerSettings(
        data_dir=tmp_path / "vendor", host=address, port=0, admin_remote=remote
    )
    with EmbeddedVendorServer(settings) as server:
        headers = {"Authorization": f"Bearer {server.admin_token.value}"}
        response = session().get(server.url + "/admin/devices", headers=headers, timeout=5)
    if remote:
        assert response.status_code == 200, response.text
    else:
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "admin_forbidden"


def test_the_token_is_created_once_0600_and_kept(tmp_path: Path, factory: Factory) -> None:
    with vendor_server(tmp_path) as first:
        token = first.admin_token
    assert token.created
    assert token.path == tmp_path / "vendor" / "admin.token"
    assert token.path.stat().st_mode & 0o777 == 0o600
    with vendor_server(tmp_path) as second:
        assert (second.admin_token.value, second.admin_token.created) == (token.value, False)
    token.path.chmod(0o644)
    with pytest.raises(SettingsError, match="chmod 600"), vendor_server(tmp_path):
        pass


def test_openapi_declares_admin_models_errors_and_bearer_auth(server: EmbeddedVendorServer) -> None:
    schema = requests.get(server.url + "/openapi.json", timeout=5).json()
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, methods in schema["paths"].items():
        if not path.startswith("/admin/"):
            continue
        for method, operation in methods.items():
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)
            for status in ("401", "403"):
                ref = operation["responses"][status]["content"]["application/json"]["schema"]
                assert ref["$ref"] == "#/components/schemas/ErrorBody"
            ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
            assert ok["$ref"].startswith("#/components/schemas/"), (method, path)
            assert "422" not in operation["responses"]  # invalid input is our 400
    assert len([p for p in schema["paths"] if p.startswith("/admin/")]) == 12
