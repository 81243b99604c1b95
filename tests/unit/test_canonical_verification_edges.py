"""The direct reading at the edges of its form, on messages signed over its own base.

``test_canonical_verification.py`` signs with our signer, so the direct reading only ever
accepts what that signer writes. Here each message is signed over the signature base the
direct reading builds from the message's raw attributes (:func:`_forge`), so the direct reading
accepts whatever its gate lets through: every edge of the gate (methods, URLs, ports, created
values, statuses, bodies, header containers, key types, signature lengths) must then give the
library's answer too, word for word.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import http
from collections.abc import Callable
from typing import Any

import pytest
import requests.structures
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from phone_sim.protocol import profile, signing
from phone_sim.protocol.signing import JSON, REQUEST_SHAPE, VERDICT_SHAPE, WireRequest, WireResponse
from tests.support.verify_both_ways import both_ways, read_directly

DEVICE_KEY = ec.generate_private_key(ec.SECP256R1())
VENDOR_KEY = ed25519.Ed25519PrivateKey.generate()
FIXED = 1630497600
NOW = dt.datetime.fromtimestamp(FIXED, tz=dt.UTC)
IN_FORM_URL = "http://127.0.0.1:8421/v1/activation"
KEY_ID = {False: "PSIM-0001", True: "vendor-0123456789abcdef"}
#: the order of P-256, for a signature with s replaced by n - s (also valid ECDSA)
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _forge(
    message: Any,
    *,
    verdict: bool,
    created: str = str(FIXED),
    key_id: str | None = None,
    nonce: str = "abcdefghijklmnop",
    content_type: str = JSON,
    signature: Callable[[bytes], bytes] = lambda raw: raw,
    headers: Any = None,
) -> None:
    """Our form's headers on ``message``, signed over the base formatted from its attributes."""
    shape = VERDICT_SHAPE if verdict else REQUEST_SHAPE
    digest = profile.digest_field(bytes(message.body))
    params = "(" + " ".join(f'"{name}"' for name in shape.components) + ")"
    params += f';created={created};keyid="{key_id or KEY_ID[verdict]}"'
    params += f';alg="{shape.algorithm.algorithm_id}"' + ("" if verdict else f';nonce="{nonce}"')
    values = {
        "@method": getattr(message, "method", None),
        "@target-uri": getattr(message, "url", None),
        "@status": getattr(message, "status_code", None),
        "content-type": content_type,
        "content-digest": digest,
    }
    lines = [f'"{name}": {values[name]}' for name in shape.components]
    base = "\n".join([*lines, f'"@signature-params": {params}']).encode()
    raw = profile.raw_signature(shape.algorithm, VENDOR_KEY if verdict else DEVICE_KEY, base)
    message.headers = {} if headers is None else headers
    message.headers["Content-Digest"] = digest
    message.headers["Signature-Input"] = f"{shape.label}={params}"
    message.headers["Signature"] = f"{shape.label}=:{base64.b64encode(signature(raw)).decode()}:"
    if verdict:
        message.headers["Content-Type"] = content_type


def _forged(
    verdict: bool,
    *,
    method: str = "POST",
    url: str = IN_FORM_URL,
    status: Any = 200,
    body: Any = b"{}",
    **forge: Any,
) -> Any:
    """A message with these attributes, in our form, signed over its own base (``_forge``)."""
    message = WireResponse(status, {}, body) if verdict else WireRequest(method, url, {}, body)
    _forge(message, verdict=verdict, **forge)
    return message


def _both(
    message: Any, *, verdict: bool, public_key: Any = None, key_id: str | None = None
) -> tuple[object, object]:
    key = public_key or (VENDOR_KEY if verdict else DEVICE_KEY).public_key()
    return both_ways(
        message, verdict=verdict, public_key=key, key_id=key_id or KEY_ID[verdict], now=NOW
    )


def _direct(message: Any, *, verdict: bool) -> bool:
    key = (VENDOR_KEY if verdict else DEVICE_KEY).public_key()
    return read_directly(message, verdict=verdict, public_key=key, key_id=KEY_ID[verdict])


def _alike(message: Any, *, verdict: bool, direct: bool | None = None) -> object:
    """The library's answer, after checking the direct reading gives it too."""
    if direct is not None:
        assert _direct(message, verdict=verdict) is direct
    first, library = _both(message, verdict=verdict)
    assert first == library
    return library


@pytest.mark.parametrize("verdict", [False, True])
def test_a_forged_base_is_accepted_both_ways(verdict: bool) -> None:
    message = _forged(verdict)
    assert isinstance(_alike(message, verdict=verdict, direct=True), signing.SignatureCheck)


class _Status(enum.IntEnum):
    OK = 200


@pytest.mark.parametrize(
    "status, direct",
    [
        (100, True),
        (999, True),
        (99, False),
        (1000, False),
        (True, False),
        (_Status.OK, False),
        (http.HTTPStatus.OK, False),
        (200.0, False),
        ("200", False),
    ],
)
def test_statuses(status: Any, direct: bool) -> None:
    message = _forged(True, status=status)
    _alike(message, verdict=True, direct=direct)


class _Bytes(bytes):
    pass


@pytest.mark.parametrize("body", [bytearray(b"{}"), memoryview(b"{}"), _Bytes(b"{}")])
@pytest.mark.parametrize("verdict", [False, True])
def test_bodies_not_of_type_bytes(body: Any, verdict: bool) -> None:
    message = _forged(verdict, body=body)
    _alike(message, verdict=verdict, direct=False)


@pytest.mark.parametrize(
    "method, direct",
    [
        ("OPTIONS", True),
        ("CONNECT", True),
        ("GET", True),
        ("A" * 20, True),
        ("A" * 21, False),
        ("post", False),
        ("PO-ST", False),
        ("POST1", False),
        ("\xc9POST", False),
        ("\u01c5", False),
    ],
)
def test_methods(method: str, direct: bool) -> None:
    message = _forged(False, method=method)
    _alike(message, verdict=False, direct=direct)


@pytest.mark.parametrize(
    "url, direct",
    [
        ("http://127.0.0.1:080/v1/activation", True),
        ("http://127.0.0.1:00000/v1/activation", True),
        ("http://127.0.0.1:99999/v1/activation", True),
        ("http://h:0/", True),
        ("http://h.../", True),
        ("http://-/", True),
        ("http://VENDOR.example./x", True),
        ("https://h:443/", True),
        ("a+b.c-d://h/", True),
        ("http://h//", True),
        ("http://h/~a/./../b", True),
        ("http://h/a\n", False),
        ("http://h/\u0661", False),
        ("http://h\u0661/", False),
        ("http://h:\u0661/", False),
        ("http://h:123456/", False),
        ("http://h/?", False),
        ("http://h/#", False),
        ("http://h:/", False),
        ("http://h", False),
        ("http://h/%41", False),
        ("http://@h/", False),
        ("http://[::1]/", False),
    ],
)
@pytest.mark.parametrize("method", ["POST", "OPTIONS", "CONNECT"])
def test_urls(url: str, direct: bool, method: str) -> None:
    """OPTIONS keeps an empty path as it is, CONNECT changes @request-target: neither may
    change what the direct reading takes as @target-uri."""
    message = _forged(False, method=method, url=url)
    _alike(message, verdict=False, direct=direct)


@pytest.mark.parametrize(
    "created, direct",
    [
        ("0", True),
        ("00", False),
        ("0" + str(FIXED), False),
        ("999999999999999", True),
        ("1000000000000000", False),
        ("\u0661\u0666\u0663\u0660\u0664\u0669\u0667\u0666\u0660\u0660", False),
        ("-1", False),
        (f"{FIXED}.0", False),
        (str(FIXED - 300), True),
        (str(FIXED - 301), True),
        (str(FIXED + 300), True),
        (str(FIXED + 301), True),
        ("253402300799", True),
        ("253402300800", True),
    ],
)
@pytest.mark.parametrize("verdict", [False, True])
def test_created_values(created: str, direct: bool, verdict: bool) -> None:
    message = _forged(verdict, created=created)
    _alike(message, verdict=verdict, direct=direct)


@pytest.mark.parametrize(
    "token", ["a", "a" * 200, "a" * 201, "a:b", ".", "a b", "a'b", "%41", "\u0661", "\u212a"]
)
def test_key_ids_and_nonces(token: str) -> None:
    message = _forged(False, key_id=token, nonce=token)
    first, library = _both(message, verdict=False, key_id=token)
    assert first == library
    message = _forged(False, nonce=token)
    _alike(message, verdict=False)


@pytest.mark.parametrize(
    "content_type, direct",
    [
        ("application/json; charset=utf-8", True),
        ("a  b", True),
        ("application/json\t", False),
        ("application/json\r\n x", False),
        (" application/json", False),
    ],
)
def test_content_types(content_type: str, direct: bool) -> None:
    message = _forged(True, content_type=content_type)
    _alike(message, verdict=True, direct=direct)


@pytest.mark.parametrize(
    "signature",
    [
        lambda s: s[:-1],
        lambda s: s + b"\0",
        lambda s: b"\0" + s,
        lambda s: s * 2,
        lambda s: s[:32] + b"\0" + s[32:],
    ],
)
@pytest.mark.parametrize("verdict", [False, True])
def test_signature_lengths(signature: Callable[[bytes], bytes], verdict: bool) -> None:
    message = _forged(verdict, signature=signature)
    assert not isinstance(_alike(message, verdict=verdict, direct=False), signing.SignatureCheck)


def test_the_other_ecdsa_signature_of_the_same_base() -> None:
    def high_s(raw: bytes) -> bytes:
        return raw[:32] + (P256_N - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")

    message = _forged(False, signature=high_s)
    assert isinstance(_alike(message, verdict=False, direct=True), signing.SignatureCheck)


class _Lines(dict[str, str]):
    """Headers whose items() gives a field line twice, as a multidict does."""

    def __init__(self, lines: list[tuple[str, str]]) -> None:
        super().__init__(lines)
        self.lines = lines

    def items(self) -> Any:
        return list(self.lines)


class _Name(str):
    def lower(self) -> str:
        return "x-other"


def test_header_containers_and_kinds() -> None:
    message = _forged(False, headers=requests.structures.CaseInsensitiveDict())
    _alike(message, verdict=False, direct=True)
    for name in ("content-digest", "Content-Digest"):
        message = _forged(False)
        message.headers = _Lines(
            [*message.headers.items(), (name, message.headers["Content-Digest"])]
        )
        _alike(message, verdict=False, direct=False)
    message = _forged(False)  # repeated lines as the server joins them
    message.headers = {k.lower(): v for k, v in message.headers.items()}
    message.headers["content-digest"] += ", " + message.headers["content-digest"]
    _alike(message, verdict=False, direct=False)
    message = _forged(False)
    message.headers = {_Name(k): v for k, v in message.headers.items()}
    _alike(message, verdict=False, direct=False)
    message = _forged(False)
    message.headers = {k: _Name(v) for k, v in message.headers.items()}
    _alike(message, verdict=False, direct=False)


@pytest.mark.parametrize("verdict", [False, True])
def test_keys_of_other_kinds(verdict: bool) -> None:
    own = (VENDOR_KEY if verdict else DEVICE_KEY).public_key()
    pem = own.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    for public_key in (
        ec.generate_private_key(ec.SECP384R1()).public_key(),
        ed25519.Ed25519PrivateKey.generate().public_key(),
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        None,
        b"not a key",
        pem,
    ):
        message = _forged(verdict)
        first, library = _both(message, verdict=verdict, public_key=public_key)
        assert first == library
