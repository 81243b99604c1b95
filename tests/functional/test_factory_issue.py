"""``phone-sim factory issue``: a third-party client, holding only the files it writes, gets a
verdict from the real vendor server (PROTOCOL.md section 3.4).

The command is taken from PROTOCOL.md and run exactly as written. The client below is written
the way a third party would write it: ``requests``, ``cryptography`` and the
``http-message-signatures`` library, the JSON by hand; nothing from ``phone_sim`` (which only
sets up the vendor server and its factory).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import shlex
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)

from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from server_stub.datadir.settings import ServerSettings
from server_stub.runtime.embedded import EmbeddedVendorServer

ROOT = Path(__file__).resolve().parents[2]
PROTOCOL = ROOT / "docs" / "PROTOCOL.md"
SEPT_2021 = 1630497600


def _documented_command() -> list[str]:
    """The ``phone-sim factory issue`` line of PROTOCOL.md's section 3.4, as argv."""
    (line,) = re.findall(r"^\.venv/bin/phone-sim factory issue .*$", PROTOCOL.read_text(), re.M)
    argv = shlex.split(line.split("#")[0])
    assert argv[0] == ".venv/bin/phone-sim"
    return [sys.executable, "-m", "phone_sim.cli", *argv[1:]]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedVendorServer]:
    """The vendor as ``make serve-vendor`` lays it out (``vendor-server serve --data
    .phone-sim-data/standalone/vendor --init-factory``): the factory it trusts beside its data,
    in ``.phone-sim-data/standalone/factory``."""
    data = tmp_path / ".phone-sim-data" / "standalone"
    settings = ServerSettings(
        data_dir=data / "vendor", factory_root=data / "factory" / "root.pem", port=0
    )
    Factory.open(data / "factory")
    with EmbeddedVendorServer(settings, clock=FixedClock(SEPT_2021)) as running:
        yield running


def test_a_third_party_client_with_only_the_issued_files_gets_a_verdict(
    tmp_path: Path, server: EmbeddedVendorServer
) -> None:
    done = subprocess.run(
        _documented_command(), cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    out = tmp_path / "my-device"
    files = {"device_key.pem", "device_chain.json", "claims.json"}
    assert {p.name for p in out.iterdir()} == files
    for name in files:
        assert str(Path("my-device") / name) in done.stdout  # the paths are printed
    assert stat.S_IMODE((out / "device_key.pem").stat().st_mode) == 0o600

    # --- the third party's client, from the three files and the vendor's public key ---------
    key = serialization.load_pem_private_key((out / "device_key.pem").read_bytes(), None)
    chain = json.loads((out / "device_chain.json").read_text())["certificates"]
    claims = json.loads((out / "claims.json").read_text())
    nonce = secrets.token_urlsafe(18)
    body = json.dumps(
        {
            "certificates": chain,
            "device": {
                "bootloader_unlocked": False,
                "firmware": "V12.5.4.0.RKFMIXM",
                "imeis": claims["imeis"],
                "market": claims["market"],
                "model": claims["model"],
                "serial": claims["serial"],
            },
            "nonce": nonce,
            "protocol": 1,
            "sims": [
                {
                    "home_mcc": "262",
                    "home_mnc": "01",
                    "iccid": "8949010000000000017",
                    "roaming": False,
                    "serving_mcc": "262",
                    "serving_mnc": "01",
                    "slot": 1,
                }
            ],
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    request = requests.Request(
        "POST",
        server.url + "/v1/activation",
        data=body,
        headers={"Content-Type": "application/json", "Content-Digest": f"sha-256=:{digest}:"},
    ).prepare()
    HTTPMessageSigner(
        signature_algorithm=algorithms.ECDSA_P256_SHA256,
        key_resolver=MappingKeyResolver(private_keys={claims["serial"]: key}, public_keys={}),
    ).sign(
        request,
        key_id=claims["serial"],
        created=dt.datetime.fromtimestamp(SEPT_2021, tz=dt.UTC),
        nonce=nonce,
        label="device",
        covered_component_ids=("@method", "@target-uri", "content-digest"),
        use_existing_digest=True,
    )
    with requests.Session() as http:
        http.trust_env = False
        response = http.send(request, timeout=10)
    assert response.status_code == 200, response.text

    vendor = serialization.load_pem_public_key(server.vendor_public_key_path.read_bytes())
    key_id = response.headers["Signature-Input"].split('keyid="')[1].split('"')[0]
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={key_id: vendor}, private_keys={}),
    )
    verifier.verify(
        response,
        max_age=None,
        require_components=("@status", "content-type", "content-digest"),
        body=response.content,
    )
    verdict = json.loads(response.content)
    assert verdict["device_serial"] == claims["serial"] and verdict["nonce"] == nonce
    assert (verdict["status"], verdict["reason"]) == ("activated", "ACTIVATION_OK")


def test_it_refuses_a_directory_without_a_factory_and_one_already_holding_an_identity(
    tmp_path: Path,
) -> None:
    def issue(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "phone_sim.cli", "factory", "issue", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )

    missing = issue("--factory", "nowhere", "--out", "device")
    assert missing.returncode == 2 and "no factory in nowhere" in missing.stderr
    assert not (tmp_path / "nowhere").exists() and not (tmp_path / "device").exists()
    Factory.open(tmp_path / "factory")
    assert issue("--factory", "factory", "--out", "device", "--seed", "1").returncode == 0
    again = issue("--factory", "factory", "--out", "device")
    assert again.returncode == 2 and "already holds device_key.pem" in again.stderr
