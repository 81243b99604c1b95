"""A real vendor server with the version 2 vectors' keys and root, at the vectors' time.

It accepts the committed version 2 requests (sent with the Host they were signed for), answers
with the committed agreement key, and the committed unlock lifts an account lock it holds; the
same bytes again are a replay. The vectors themselves: tests/unit/test_protocol_vectors_v2.py.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.messages import Verdict
from server_stub.datadir.settings import ServerSettings
from server_stub.engine.passwords import new_account
from server_stub.runtime.embedded import EmbeddedVendorServer
from server_stub.store.accounts import Binding

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def read(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data


ACTIVATION = read("v2_activation_request.json")
ACCOUNT = read("v2_account_request.json")
SECRETS = read("v2_device_secret.json")
SERIAL = SECRETS["serial"]


@pytest.fixture
def vector_vendor(tmp_path: Path) -> Iterator[EmbeddedVendorServer]:
    """Our server with the vectors' vendor key and factory root, its clock at their time."""
    data = tmp_path / "vendor"
    data.mkdir()
    shutil.copy(VECTORS / "vendor_key.pem", data / "vendor.key")
    (data / "vendor.key").chmod(0o600)
    shutil.copy(VECTORS / "vendor_public.pem", data / "vendor.pub")
    settings = ServerSettings(data_dir=data, factory_root=VECTORS / "root.pem", port=0)
    with EmbeddedVendorServer(settings, clock=FixedClock(ACTIVATION["verify_at"])) as server:
        yield server


def replay(server: EmbeddedVendorServer, vector: dict[str, Any]) -> requests.Response:
    """Send a committed request as signed, to wherever the server listens (Host as signed)."""
    path = vector["url"].removeprefix("http://127.0.0.1:8421")
    with requests.Session() as http:
        http.trust_env = False
        return http.post(
            server.url + path,
            data=vector["body"].encode(),
            headers=dict(vector["headers"]) | {"Host": "127.0.0.1:8421"},
            timeout=10,
        )


def test_a_real_vendor_accepts_the_committed_requests_and_lifts_the_lock(
    vector_vendor: EmbeddedVendorServer,
) -> None:
    server = vector_vendor
    # The vendor remembers the device bound to alice, Find Device on (as before the reset).
    with server.store.transaction() as tx:
        tx.accounts.add_account(new_account(SECRETS["account"], SECRETS["password"], at=0))
    answered = replay(server, ACTIVATION)
    assert answered.status_code == 200, answered.text
    first = Verdict.decode(answered.content)
    assert first.protocol == 2 and first.agreement_key == SECRETS["agreement_key"]
    with server.store.transaction() as tx:
        tx.accounts.save_binding(
            Binding(SERIAL, SECRETS["account"], find_device=True, bound_at=0, locked_at=1)
        )
    server.clock.advance(ACCOUNT["verify_at"] - ACTIVATION["verify_at"])  # type: ignore[attr-defined]
    unlocked = replay(server, ACCOUNT)
    assert unlocked.status_code == 200, unlocked.text
    verdict = Verdict.decode(unlocked.content)
    assert verdict.nonce == SECRETS["account_nonce"]
    assert verdict.account is not None and not verdict.account.locked
    # Once: the same bytes again are a replay.
    again = replay(server, ACCOUNT)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "nonce_replayed")
