"""The real vendor server refuses a request body that is not canonical UTF-8 JSON (version 2).

Each body below carries the same request as the canonical one and is signed properly by the
device (digest and signature over exactly these bytes), so the only thing wrong with it is its
form: the server answers 400 ``malformed_request``, saying what is wrong, and writes nothing.
The phone's side (properly signed, non-canonical verdicts) is in ``test_hostile_vendor.py``.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from phone_sim.protocol.identity import Factory
from server_stub.runtime.embedded import EmbeddedVendorServer
from tests.support.signed_client import (
    ACTIVATION_PATH,
    CHECKIN_PATH,
    SEPT_2021,
    DeviceIdentity,
    send,
    sim,
)


def _relaid(raw: bytes, **dumps: object) -> bytes:
    return json.dumps(json.loads(raw), **dumps).encode()  # type: ignore[arg-type]


#: name -> (the canonical body -> the same request otherwise written, what the error says)
FORMS: dict[str, tuple[Callable[[bytes], bytes], str]] = {
    "pretty-printed": (lambda raw: _relaid(raw, indent=2, sort_keys=True), "not canonical"),
    "spaces after separators": (lambda raw: _relaid(raw, sort_keys=True), "not canonical"),
    "keys in another order": (
        lambda raw: json.dumps(
            dict(reversed(list(json.loads(raw).items()))), separators=(",", ":")
        ).encode(),
        "not canonical",
    ),
    "a needless escape": (
        lambda raw: raw.replace(b'"nonce"', b'"\\u006eonce"', 1),
        "not canonical",
    ),
    "a trailing newline": (lambda raw: raw + b"\n", "not canonical"),
    "a byte order mark": (lambda raw: b"\xef\xbb\xbf" + raw, "byte order mark"),
    "UTF-16": (lambda raw: raw.decode().encode("utf-16"), "not UTF-8"),
    "UTF-16LE without a BOM": (lambda raw: raw.decode().encode("utf-16-le"), "UTF-16"),
    "UTF-32": (lambda raw: raw.decode().encode("utf-32"), "not UTF-8"),
    "a duplicate key (a German SIM, then the Cuban one)": (
        lambda raw: raw.replace(b'"sims":', b'"sims":[],"sims":', 1),
        "duplicate key 'sims'",
    ),
    "a duplicate key inside the device": (
        lambda raw: raw.replace(b'"device":{', b'"device":{"bootloader_unlocked":true,', 1),
        "duplicate key 'bootloader_unlocked'",
    ),
}


@pytest.fixture
def device(factory: Factory) -> DeviceIdentity:
    return DeviceIdentity.issue(factory)


@pytest.mark.parametrize("path", [ACTIVATION_PATH, CHECKIN_PATH])
@pytest.mark.parametrize("form", list(FORMS))
def test_a_properly_signed_non_canonical_body_is_400_and_writes_nothing(
    vendor_server: EmbeddedVendorServer, device: DeviceIdentity, form: str, path: str
) -> None:
    rewrite, says = FORMS[form]
    canonical = device.request([sim("368-01")]).encode()
    body = rewrite(canonical)
    assert body != canonical
    nonce = json.loads(canonical)["nonce"]
    before = vendor_server.store.counts()
    response = send(device.sign(vendor_server.url + path, body, created=SEPT_2021, nonce=nonce))
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "malformed_request"
    assert says in error["message"], error
    assert vendor_server.store.counts() == before
    # The control: the canonical bytes of the same request, signed the same way, are answered.
    response = send(
        device.sign(vendor_server.url + path, canonical, created=SEPT_2021, nonce=nonce)
    )
    assert response.status_code == 200, response.text
