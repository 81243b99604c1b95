"""The canonical form verified directly, against the library alone.

``signing._verify`` reads a message in exactly the form our signers write without the library
(``profile.read_canonical``), and asks ``http-message-signatures`` about every other message
and for every refusal. That is only sound if the direct reading never accepts what the library
refuses, and never accepts with another result. So, for honest messages of many kinds, the same
messages mutated at random, and hand-picked hostile ones (among them the kinds that made the
hand-written verifier of issue #6 disagree with the library: whitespace and control characters
around a signed value, a field repeated under another case), both ways must give the same
``SignatureCheck`` or the same refusal with the same reason. And honest messages must take the
direct reading, or the speed it exists for is lost without a test noticing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phone_sim.protocol import signing
from phone_sim.protocol.errors import SignatureError
from phone_sim.protocol.signing import (
    JSON,
    WireRequest,
    WireResponse,
    sign_request,
    sign_verdict_response,
)
from tests.support.verify_both_ways import both_ways, read_directly

DEVICE_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_DEVICE_KEY = ec.generate_private_key(ec.SECP256R1())
VENDOR_KEY = ed25519.Ed25519PrivateKey.generate()
OTHER_VENDOR_KEY = ed25519.Ed25519PrivateKey.generate()
PUBLIC: dict[str, ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey] = {
    "device": DEVICE_KEY.public_key(),
    "other-device": OTHER_DEVICE_KEY.public_key(),
    "vendor": VENDOR_KEY.public_key(),
    "other-vendor": OTHER_VENDOR_KEY.public_key(),
}
FIXED = 1630497600
NOW = dt.datetime.fromtimestamp(FIXED, tz=dt.UTC)
IN_FORM_URL = "http://127.0.0.1:8421/v1/activation"

#: URLs the direct reading takes, and URLs it leaves to the library (query, IPv6, escapes, ...)
URLS = [
    IN_FORM_URL,
    "https://vendor.example/v1/checkin",
    "http://Vendor.Example:080/v1/activation",
    "http://127.0.0.1:8421/",
    "http://localhost:8421/v1/checkin?x=1",
    "http://localhost:8421/v1/checkin?",
    "http://[::1]:8421/v1/activation",
    "http://127.0.0.1:8421",
    "http://user@127.0.0.1:8421/v1/activation",
    "http://127.0.0.1:8421/v1/a%20b",
    "http://127.0.0.1:8421/v1/activation#frag",
    "HTTP://127.0.0.1:8421/v1/activation",
    "http://127.0.0.1:/v1/activation",
]
#: characters that sit around or inside a value and change (or do not change) what it means:
#: str.strip() removes \x1c-\x1f, \x85 and \xa0, the library's normalisation only spaces and tabs
ODD = [
    " ",
    "\t",
    "\r\n ",
    "\r\n",
    "\n",
    "\r",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x1f",
    "\x85",
    "\xa0",
    "é",
    ",",
]
key_ids = st.one_of(
    st.from_regex(r"[A-Za-z0-9._:-]{1,24}", fullmatch=True),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=24),
)
nonces = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{16,32}", fullmatch=True),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=24),
)
created_times = st.one_of(
    st.integers(FIXED - 200, FIXED + 200),  # within the allowance either way
    st.integers(0, 4_000_000_000),
)
bodies = st.binary(max_size=300)


def _both(message: Any, *, verdict: bool, key: str, key_id: str) -> tuple[object, object]:
    return both_ways(message, verdict=verdict, public_key=PUBLIC[key], key_id=key_id, now=NOW)


def _request(key_id: str, nonce: str, created: int, body: bytes, url: str) -> WireRequest | None:
    request = WireRequest("POST", url, {"Content-Type": JSON, "User-Agent": "phone-sim"}, body)
    try:
        sign_request(request, key=DEVICE_KEY, key_id=key_id, created=created, nonce=nonce)
    except SignatureError:
        return None  # our signer refuses what cannot be carried (a URL the library refuses)
    return request


def _verdict(
    key_id: str, created: int, body: bytes, status: int, content_type: str
) -> WireResponse:
    response = WireResponse(status, {"Content-Type": content_type}, body)
    sign_verdict_response(response, key=VENDOR_KEY, key_id=key_id, created=created)
    return response


def _in_form(message: Any, *, verdict: bool, key: str, key_id: str) -> bool:
    return read_directly(message, verdict=verdict, public_key=PUBLIC[key], key_id=key_id)


# --- honest messages ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(key_id=key_ids, nonce=nonces, created=created_times, body=bodies, url=st.sampled_from(URLS))
def test_honest_requests_get_the_librarys_answer(
    key_id: str, nonce: str, created: int, body: bytes, url: str
) -> None:
    request = _request(key_id, nonce, created, body, url)
    if request is None:
        return
    direct, library = _both(request, verdict=False, key="device", key_id=key_id)
    assert direct == library


@settings(max_examples=200, deadline=None)
@given(
    key_id=key_ids,
    created=created_times,
    body=bodies,
    status=st.sampled_from([200, 201, 409, 99, 1000]),
    content_type=st.sampled_from([JSON, "application/json; charset=utf-8", "text/plain"]),
)
def test_honest_verdicts_get_the_librarys_answer(
    key_id: str, created: int, body: bytes, status: int, content_type: str
) -> None:
    try:
        response = _verdict(key_id, created, body, status, content_type)
    except SignatureError:
        return
    direct, library = _both(response, verdict=True, key="vendor", key_id=key_id)
    assert direct == library


def test_honest_messages_in_our_form_take_the_direct_reading() -> None:
    """The speed-up must really apply to what our signers send, at every size of body."""
    for body in (b"", b"{}", b'{"nonce":"x"}' * 100):
        request = _request("PSIM-0001", "n" * 24, FIXED, body, IN_FORM_URL)
        assert request is not None
        assert _in_form(request, verdict=False, key="device", key_id="PSIM-0001")
        verdict = _verdict("vendor-0123456789abcdef", FIXED, body, 200, JSON)
        assert _in_form(verdict, verdict=True, key="vendor", key_id="vendor-0123456789abcdef")
        direct, library = _both(request, verdict=False, key="device", key_id="PSIM-0001")
        assert isinstance(direct, signing.SignatureCheck) and direct == library


# --- the same, mutated -------------------------------------------------------------------------

SIGNED_FIELDS = ["Signature-Input", "Signature", "Content-Digest", "Content-Type"]


def _mutate_text(data: st.DataObject, text: str) -> str:
    how = data.draw(st.sampled_from(["replace", "insert", "delete", "prefix", "suffix", "case"]))
    if how == "case":
        return text.swapcase()
    if how in ("prefix", "suffix"):
        odd = data.draw(st.sampled_from(ODD))
        return odd + text if how == "prefix" else text + odd
    i = data.draw(st.integers(0, max(len(text) - 1, 0)))
    if how == "delete":
        return text[:i] + text[i + 1 :]
    char = data.draw(st.sampled_from(ODD) | st.characters(min_codepoint=0x20, max_codepoint=0x7E))
    return text[:i] + char + text[i + (how == "replace") :]


def _mutate(data: st.DataObject, message: WireRequest | WireResponse, *, verdict: bool) -> None:
    """One to three changes to a signed message, of the kinds a hostile peer or proxy makes."""
    for _ in range(data.draw(st.integers(1, 3))):
        what = data.draw(
            st.sampled_from(
                ["value", "name-case", "repeat", "drop", "body", "extra", "target", "method"]
            )
        )
        headers = message.headers
        name = data.draw(st.sampled_from([n for n in headers] or ["Signature"]))
        if what == "value" and name in headers:
            headers[name] = _mutate_text(data, headers[name])
        elif what == "name-case" and name in headers:
            headers[name.swapcase()] = headers.pop(name)
        elif what == "repeat" and name in headers:
            # the same field again under another case: the library joins the two values
            headers[name.lower() if name != name.lower() else name.upper()] = data.draw(
                st.sampled_from([headers[name], "", "x"])
            )
        elif what == "drop" and name in headers:
            del headers[name]
        elif what == "body":
            message.body = data.draw(st.sampled_from([b"", message.body + b" ", b"{}"]))
        elif what == "extra":
            headers[data.draw(st.sampled_from(["X-Odd", "Host", "Accept"]))] = data.draw(
                st.lists(st.sampled_from([*ODD, "a", "b"]), max_size=4).map("".join)
            )
        elif what == "target" and isinstance(message, WireRequest):
            message.url = data.draw(st.sampled_from([*URLS, _mutate_text(data, message.url)]))
        elif what == "target" and isinstance(message, WireResponse):
            message.status_code = data.draw(st.sampled_from([201, 500, 99]))
        elif what == "method" and isinstance(message, WireRequest):
            message.method = data.draw(st.sampled_from(["post", "GET", "POST ", "PO ST", ""]))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.data(),
    verdict=st.booleans(),
    created=st.integers(FIXED - 200, FIXED + 200),
    body=bodies,
    wrong_key=st.booleans(),
    wrong_key_id=st.booleans(),
)
def test_mutated_messages_get_the_librarys_answer(
    data: st.DataObject,
    verdict: bool,
    created: int,
    body: bytes,
    wrong_key: bool,
    wrong_key_id: bool,
) -> None:
    key_id = "vendor-0123456789abcdef" if verdict else "PSIM-0001"
    message: WireRequest | WireResponse
    if verdict:
        message = _verdict(key_id, created, body, 200, JSON)
    else:
        request = _request(key_id, "abcdefghijklmnop", created, body, IN_FORM_URL)
        assert request is not None
        message = request
    _mutate(data, message, verdict=verdict)
    key = ("other-" if wrong_key else "") + ("vendor" if verdict else "device")
    direct, library = _both(
        message, verdict=verdict, key=key, key_id=key_id + ("x" if wrong_key_id else "")
    )
    assert direct == library


# --- hand-picked -------------------------------------------------------------------------------


def _signed_verdict() -> WireResponse:
    return _verdict("vendor-0123456789abcdef", FIXED, b'{"status":"locked"}', 200, JSON)


def _signed_request() -> WireRequest:
    request = _request("PSIM-0001", "abcdefghijklmnop", FIXED, b'{"nonce":"x"}', IN_FORM_URL)
    assert request is not None
    return request


@pytest.mark.parametrize("odd", ODD)
@pytest.mark.parametrize("field", SIGNED_FIELDS)
@pytest.mark.parametrize("where", ["prefix", "suffix"])
def test_odd_characters_around_a_signed_value(odd: str, field: str, where: str) -> None:
    for verdict, message in ((True, _signed_verdict()), (False, _signed_request())):
        headers = message.headers
        headers[field] = odd + headers[field] if where == "prefix" else headers[field] + odd
        key_id = "vendor-0123456789abcdef" if verdict else "PSIM-0001"
        key = "vendor" if verdict else "device"
        if verdict or field != "Content-Type":  # a request's Content-Type is not signed
            assert not _in_form(message, verdict=verdict, key=key, key_id=key_id)
        direct, library = _both(message, verdict=verdict, key=key, key_id=key_id)
        assert direct == library


@pytest.mark.parametrize("field", SIGNED_FIELDS)
def test_a_signed_field_repeated_under_another_case(field: str) -> None:
    message = _signed_verdict()
    message.headers[field.lower()] = message.headers[field]
    assert not _in_form(message, verdict=True, key="vendor", key_id="vendor-0123456789abcdef")
    direct, library = _both(message, verdict=True, key="vendor", key_id="vendor-0123456789abcdef")
    assert direct == library and not isinstance(library, signing.SignatureCheck)


def test_a_request_that_looks_like_a_response_is_the_librarys() -> None:
    @dataclasses.dataclass
    class RequestWithStatus(WireRequest):
        status_code: int = 200

    signed = _signed_request()
    message = RequestWithStatus(signed.method, signed.url, dict(signed.headers), signed.body)
    assert not _in_form(message, verdict=False, key="device", key_id="PSIM-0001")
    direct, library = _both(message, verdict=False, key="device", key_id="PSIM-0001")
    assert direct == library and not isinstance(library, signing.SignatureCheck)


class _RequestWithRaisingRequest(WireRequest):
    @property
    def request(self) -> WireRequest:
        raise RuntimeError("this attribute cannot be read")


class _ResponseWithRaisingRequest(WireResponse):
    @property
    def request(self) -> WireRequest:
        raise RuntimeError("this attribute cannot be read")


@pytest.mark.parametrize("verdict", [False, True])
def test_a_message_class_of_another_kind_is_the_librarys(verdict: bool) -> None:
    """Only our own two classes are read directly: the library reads a request's ``request``
    never and a response's with ``hasattr``, so an attribute that raises on reading made the
    direct reading raise where the library accepted the request or refused the response."""
    message: WireRequest | WireResponse
    if verdict:
        signed = _signed_verdict()
        message = _ResponseWithRaisingRequest(signed.status_code, signed.headers, signed.body)
    else:
        request = _signed_request()
        message = _RequestWithRaisingRequest(
            request.method, request.url, request.headers, request.body
        )
    key_id = "vendor-0123456789abcdef" if verdict else "PSIM-0001"
    key = "vendor" if verdict else "device"
    assert not _in_form(message, verdict=verdict, key=key, key_id=key_id)
    direct, library = _both(message, verdict=verdict, key=key, key_id=key_id)
    assert direct == library
    assert isinstance(library, signing.SignatureCheck) is not verdict


@pytest.mark.parametrize(
    "created, accepted",
    [(FIXED, True), (FIXED - 301, False), (FIXED + 301, False), (FIXED + 10**14, False)],
)
def test_times_are_judged_alike(created: int, accepted: bool) -> None:
    request = _request("PSIM-0001", "abcdefghijklmnop", created, b"{}", IN_FORM_URL)
    assert request is not None
    assert _in_form(request, verdict=False, key="device", key_id="PSIM-0001")
    direct, library = _both(request, verdict=False, key="device", key_id="PSIM-0001")
    assert direct == library
    assert isinstance(library, signing.SignatureCheck) is accepted


def test_a_non_canonical_signature_encoding_is_the_librarys() -> None:
    message = _signed_verdict()
    label, _, value = message.headers["Signature"].partition("=")
    message.headers["Signature"] = f"{label}={value[:-3]}:"  # the padding dropped
    assert not _in_form(message, verdict=True, key="vendor", key_id="vendor-0123456789abcdef")
    direct, library = _both(message, verdict=True, key="vendor", key_id="vendor-0123456789abcdef")
    assert direct == library
