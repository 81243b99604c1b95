"""``GET /admin/fleet``: part of the device list, for a console over a fleet too large to list."""

from __future__ import annotations

import pytest

from server_stub.admin.client import AdminClient, AdminHttpError
from server_stub.api.routes.admin import MAX_IDENTS
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.signed_client import session, sim
from tests.support.vendor import TELEKOM, Phones


def _key(view: object) -> str:
    serial, imeis = getattr(view, "serial", None), getattr(view, "imeis", [])
    return str(serial or imeis[0])


def test_a_page_names_its_devices_then_the_holds_and_devices_met_last(
    phones: Phones, admin: AdminClient
) -> None:
    made = [phones() for _ in range(6)]
    for phone in made:
        phone.activate(sim(TELEKOM))
    unseen = [phones() for _ in range(3)]
    for phone in unseen:  # holds on IMEIs of devices not seen yet, placed in this order
        admin.lock(phone.identity.claims.imeis[0], reason="investigation")

    page = admin.fleet(limit=2)
    holds = [p.identity.claims.imeis[0] for p in unseen[-2:]]
    assert [_key(v) for v in page.devices] == [*holds, made[4].serial, made[5].serial]
    assert page.total == 9
    assert [v.state for v in page.devices] == ["never-seen", "never-seen", "activated", "activated"]

    # Named devices come first, in the order named, by serial or IMEI, each once; one the
    # server does not know is left out.
    named = admin.fleet(
        limit=2,
        idents=[made[0].serial, made[1].identity.claims.imeis[1], "RN10P9999999", made[5].serial],
    )
    assert [_key(v) for v in named.devices] == [
        made[0].serial,
        made[1].serial,
        made[5].serial,
        *holds,
        made[4].serial,
    ]
    # The whole list agrees with the page on every device the page shows.
    whole = {_key(v): v for v in admin.devices()}
    assert all(whole[_key(v)] == v for v in named.devices)


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1001",
        "limit=many",
        "ident=no%20spaces!",
        "ident=867531040000019",  # 15 digits, a wrong check digit
        "&".join(f"ident=RN10P{n:07d}" for n in range(MAX_IDENTS + 1)),
    ],
)
def test_a_bad_page_request_is_a_400_json_error(server: EmbeddedVendorServer, query: str) -> None:
    headers = {"Authorization": f"Bearer {server.admin_token.value}"}
    response = session().get(f"{server.url}/admin/fleet?{query}", headers=headers, timeout=5)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "malformed_request"


def test_a_page_needs_the_admin_token(server: EmbeddedVendorServer) -> None:
    response = session().get(f"{server.url}/admin/fleet", timeout=5)
    assert response.status_code == 401
    with pytest.raises(AdminHttpError) as info:
        AdminClient(server.url, "not-the-token").fleet()
    assert info.value.status == 401
