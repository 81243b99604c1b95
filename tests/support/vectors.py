"""The committed version 1 test vectors (tests/vectors/) as the tests read them.

The generator module (``gen``), the committed request and verdict (fresh copies, safe to
mutate), the fixed time and identity they were made at, the keys, and the checks our verifiers
make at that time. Shared by ``tests/unit/test_protocol_vectors*.py`` and
``test_lock_screen_protocol.py``; :func:`load_vector_module` also serves the version 2 tests.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from phone_sim.protocol.identity import FactoryTrust, chain_from_wire
from phone_sim.protocol.keys import load_vendor_public_key, vendor_key_id
from phone_sim.protocol.signing import (
    WireRequest,
    WireResponse,
    verify_request,
    verify_verdict_response,
)

VECTORS = Path(__file__).resolve().parents[1] / "vectors"


def load_vector_module(name: str) -> ModuleType:
    """``tests/vectors/<name>.py`` (a script, not a package module), loaded once a process."""
    spec = importlib.util.spec_from_file_location(
        f"phone_sim_vectors_{name}", VECTORS / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = sys.modules.get(spec.name) or importlib.util.module_from_spec(spec)
    if spec.name not in sys.modules:
        sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
        spec.loader.exec_module(module)
    return module


gen = load_vector_module("generate")

REQUEST_JSON: dict[str, Any] = json.loads((VECTORS / "activation_request.json").read_text())
VERDICT_JSON: dict[str, Any] = json.loads((VECTORS / "verdict_response.json").read_text())
FIXED_TIME = 1630497600
NOW = dt.datetime(2021, 9, 1, 12, 0, 0, tzinfo=dt.UTC)
SERIAL = "RN10P2109000001"
NONCE = "test-vector-nonce-2021-09-01"

_device_key = serialization.load_pem_private_key(
    (VECTORS / "device_key.pem").read_bytes(), password=None
)
assert isinstance(_device_key, ec.EllipticCurvePrivateKey)
DEVICE_KEY: ec.EllipticCurvePrivateKey = _device_key
_vendor_key = serialization.load_pem_private_key(
    (VECTORS / "vendor_key.pem").read_bytes(), password=None
)
assert isinstance(_vendor_key, ed25519.Ed25519PrivateKey)
VENDOR_KEY: ed25519.Ed25519PrivateKey = _vendor_key
VENDOR_PUBLIC = load_vendor_public_key(VECTORS / "vendor_public.pem")
VENDOR_KEY_ID = vendor_key_id(VENDOR_PUBLIC)


def committed_request() -> WireRequest:
    """A fresh copy of the committed request, safe to mutate."""
    return WireRequest(
        method=REQUEST_JSON["method"],
        url=REQUEST_JSON["url"],
        headers=dict(REQUEST_JSON["headers"]),
        body=REQUEST_JSON["body"].encode(),
    )


def committed_verdict() -> WireResponse:
    return WireResponse(
        status_code=VERDICT_JSON["status"],
        headers=dict(VERDICT_JSON["headers"]),
        body=VERDICT_JSON["body"].encode(),
    )


def device_public_key() -> ec.EllipticCurvePublicKey:
    """The device key as the server learns it: from the verified certificate chain."""
    _, public = FactoryTrust.load(VECTORS / "root.pem").verify_chain(
        chain_from_wire(json.loads(REQUEST_JSON["body"])["certificates"]), now=NOW
    )
    return public


def check_request(request: WireRequest, *, now: dt.datetime = NOW, key_id: str = SERIAL) -> object:
    return verify_request(request, public_key=DEVICE_KEY.public_key(), key_id=key_id, now=now)


def check_verdict(response: WireResponse, *, now: dt.datetime = NOW) -> object:
    return verify_verdict_response(
        response, public_key=VENDOR_PUBLIC, key_id=VENDOR_KEY_ID, now=now
    )


def sha256_digest_field(body: bytes) -> str:
    """RFC 9530 Content-Digest, written out by hand."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode() + ":"


def signature_bytes(header: str, label: str) -> bytes:
    """The raw bytes of the signature labelled ``label`` in a ``Signature`` header."""
    prefix = f"{label}=:"
    assert header.startswith(prefix) and header.endswith(":")
    return base64.b64decode(header[len(prefix) : -1])
