"""Canonical JSON is RFC 8785 on our messages, and both sides refuse anything else (version 2).

* Our encoder (``json.dumps``, for speed) against the ``rfc8785`` library by Trail of Bits: the
  same bytes for every request and verdict the schemas admit, and for every JSON value in the
  domain they admit (ASCII keys, integers within ±(2**53 - 1), any valid string). Outside it
  they differ, and the parser refuses what lies outside (shown below, so the boundary is known).
* The committed vectors are RFC 8785 bytes: the form did not change with version 2.
* Strict reading: duplicate keys, a byte order mark, UTF-16/32, ``NaN``, unsafe integers, lone
  surrogates, and any non-canonical layout are ``malformed_request`` for requests and verdicts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from phone_sim.protocol.canonical import (
    SAFE_INTEGER,
    canonical_json,
    parse_json,
    require_canonical,
)
from phone_sim.protocol.errors import MalformedMessage
from phone_sim.protocol.messages import ActivationRequest, Verdict
from tests.support.messages import activation_requests, sample_request, verdicts

VECTORS = Path(__file__).resolve().parents[1] / "vectors"

# --- our encoder is RFC 8785 on our domain -------------------------------------------------------

_keys = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-SAFE_INTEGER, SAFE_INTEGER)
    | st.text(st.characters(codec="utf-8"), max_size=40)  # control characters included
)
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, derandomize=True)
@given(json_values)
def test_our_encoder_is_rfc8785_on_every_value_our_schemas_admit(value: Any) -> None:
    assert canonical_json(value) == rfc8785.dumps(value)


@settings(max_examples=100, derandomize=True)
@given(activation_requests())
def test_every_request_is_encoded_as_rfc8785(request: ActivationRequest) -> None:
    raw = request.encode()
    assert raw == rfc8785.dumps(json.loads(raw))
    assert ActivationRequest.decode(raw) == request


@settings(max_examples=100, derandomize=True)
@given(verdicts)
def test_every_verdict_is_encoded_as_rfc8785(verdict: Verdict) -> None:
    raw = verdict.encode()
    assert raw == rfc8785.dumps(json.loads(raw))
    assert Verdict.decode(raw) == verdict


def test_outside_the_domain_the_encoders_differ_and_the_parser_refuses() -> None:
    # Keys: RFC 8785 sorts by UTF-16 code unit (U+10000 is D800 DC00, before U+E000), Python by
    # code point. Our schemas' keys are ASCII, where the two orders agree.
    keys = {"\ue000": 1, "\U00010000": 2}
    assert canonical_json(keys) != rfc8785.dumps(keys)
    # Integers past 2**53 - 1 have no exact RFC 8785 form; the parser refuses them.
    with pytest.raises(rfc8785.IntegerDomainError):
        rfc8785.dumps(2**53)
    with pytest.raises(MalformedMessage, match="outside"):
        parse_json(b'{"sequence":9007199254740992}')
    assert parse_json(b'{"sequence":9007199254740991}') == {"sequence": SAFE_INTEGER}


@pytest.mark.parametrize("name", ["activation_request.json", "verdict_response.json"])
def test_the_committed_vectors_are_rfc8785(name: str) -> None:
    body = json.loads((VECTORS / name).read_text())["body"].encode()
    assert rfc8785.dumps(json.loads(body)) == body


def test_the_committed_verdict_body_is_480_bytes() -> None:
    # PROTOCOL.md section 10.2 says so (version 1 of the text said 484).
    body = json.loads((VECTORS / "verdict_response.json").read_text())["body"].encode()
    assert len(body) == 480


# --- strict reading, both sides -----------------------------------------------------------------


def _verdict() -> Verdict:
    return Verdict.model_validate(
        {
            "device_serial": "RN10P2109000001",
            "imei": "867531040000016",
            "status": "locked",
            "reason": "EMBARGOED_TERRITORY",
            "message": "Appareil bloqué",
            "nonce": "test-vector-nonce-2021-09-01",
            "issued_at": 1630497600,
            "expires_at": 1631102400,
            "sequence": 1,
            "policy_version": "2021-09-01",
        }
    )


def _refusals(raw: bytes) -> dict[str, bytes]:
    """``raw`` (canonical) made non-canonical, non-UTF-8 or ambiguous in each way we refuse."""
    value = json.loads(raw)
    first = next(iter(value))
    return {
        "pretty-printed": json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False).encode(),
        "spaces after separators": json.dumps(value, sort_keys=True, ensure_ascii=False).encode(),
        "keys reordered": json.dumps(
            dict(reversed(list(value.items()))), separators=(",", ":"), ensure_ascii=False
        ).encode(),
        "non-ASCII escaped": canonical_json(value).replace("é".encode(), b"\\u00e9"),
        "a needless escape": raw.replace(b'"nonce"', b'"\\u006eonce"', 1),
        "trailing newline": raw + b"\n",
        "a byte order mark": b"\xef\xbb\xbf" + raw,
        "UTF-16": raw.decode().encode("utf-16"),
        "UTF-16LE, no BOM": raw.decode().encode("utf-16-le"),
        "UTF-32": raw.decode().encode("utf-32"),
        "a duplicate key (the first one again, last)": raw[:-1]
        + b","
        + canonical_json({first: value[first]})[1:],
        # Python's parser would keep the later "false": the signed bytes would say two things.
        "a duplicate key, nested": raw.replace(
            b'"device":{', b'"device":{"bootloader_unlocked":true,', 1
        ),
    }


def _check_refusals(cls: type[ActivationRequest] | type[Verdict], raw: bytes) -> None:
    cls.decode(raw)  # the canonical body itself is read
    for name, bad in _refusals(raw).items():
        if bad == raw:
            continue
        with pytest.raises(MalformedMessage) as info:
            cls.decode(bad)
        assert info.value.code == "malformed_request", name
        assert info.value.message, name


def test_a_request_in_any_other_form_than_canonical_utf8_is_refused() -> None:
    _check_refusals(ActivationRequest, sample_request().encode())


def test_a_verdict_in_any_other_form_than_canonical_utf8_is_refused() -> None:
    _check_refusals(Verdict, _verdict().encode())


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b'{"a":1,"a":2}', "duplicate key 'a'"),
        (b'{"a":{"b":1,"b":1}}', "duplicate key 'b'"),
        (b"\xef\xbb\xbf{}", "byte order mark"),
        ("{}".encode("utf-16-le"), "UTF-16"),
        ("{}".encode("utf-32"), "not UTF-8"),
        (b'{"a":NaN}', "NaN is not JSON"),
        (b'{"a":-Infinity}', "-Infinity is not JSON"),
        (b'{"a":"\xff"}', "not UTF-8"),
    ],
)
def test_strict_reading_names_what_is_wrong(raw: bytes, says: str) -> None:
    with pytest.raises(MalformedMessage, match=says):
        parse_json(raw)


def test_a_duplicate_key_is_refused_even_where_both_values_agree() -> None:
    raw = sample_request().encode()
    doubled = raw.replace(b'"protocol":1', b'"protocol":1,"protocol":1', 1)
    assert doubled != raw
    with pytest.raises(MalformedMessage, match="duplicate key 'protocol'"):
        ActivationRequest.decode(doubled)


def test_a_lone_surrogate_is_refused() -> None:
    raw = sample_request().encode().replace(b'"firmware":"', b'"firmware":"\\ud800', 1)
    with pytest.raises(MalformedMessage, match="unicode string"):  # the schema's refusal
        ActivationRequest.decode(raw)
    # and the canonical check's, for any value: no UTF-8 form, so no canonical form
    with pytest.raises(MalformedMessage, match="lone surrogate"):
        require_canonical(b'{"a":"\\ud800"}', parse_json(b'{"a":"\\ud800"}'))
