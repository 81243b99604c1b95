"""Protocol messages: canonical encoding, closed strict schemas, limits, error codes.

The messages drawn and sampled here come from ``tests/support/messages.py``; IMEI and
MCC/MNC rules: ``test_protocol_identifiers.py``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings

from phone_sim.protocol.errors import (
    CertificateError,
    MalformedMessage,
    PayloadTooLarge,
    ProtocolError,
    ReplayedNonce,
    SignatureError,
    StaleMessage,
    VerdictRejected,
)
from phone_sim.protocol.imei import (
    make_imei,
)
from phone_sim.protocol.messages import (
    MAX_BODY_BYTES,
    ActivationRequest,
    ErrorBody,
    SimReport,
    Verdict,
    VerdictStatus,
    canonical_json,
)
from tests.support.messages import activation_requests, sample_request, sample_verdict, verdicts


def _is_canonical(raw: bytes) -> bool:
    return raw == json.dumps(
        json.loads(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


# --- round trips -------------------------------------------------------------------------------


@settings(max_examples=100)
@given(activation_requests())
def test_activation_request_round_trips_through_canonical_bytes(request: ActivationRequest) -> None:
    raw = request.encode()
    assert _is_canonical(raw)
    decoded = ActivationRequest.decode(raw)
    assert decoded == request
    assert decoded.encode() == raw


@settings(max_examples=100)
@given(verdicts)
def test_verdict_round_trips_through_canonical_bytes(verdict: Verdict) -> None:
    raw = verdict.encode()
    assert _is_canonical(raw)
    decoded = Verdict.decode(raw)
    assert decoded == verdict
    assert decoded.status is verdict.status
    assert decoded.encode() == raw


def test_canonical_json_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": None, "c": "é"}]}) == (
        '{"a":[1,{"c":"é","d":null}],"b":1}'.encode()
    )


def test_verdict_status_decodes_from_its_wire_value() -> None:
    # Regression: strict mode once refused the string "locked" and no verdict could be decoded.
    body = json.loads(sample_verdict().encode())
    for wire, status in [("activated", VerdictStatus.ACTIVATED), ("locked", VerdictStatus.LOCKED)]:
        body["status"] = wire
        assert Verdict.decode(canonical_json(body)).status is status
    for bad in ["LOCKED", "unlocked", "", 1, True, None]:
        body["status"] = bad
        with pytest.raises(MalformedMessage, match="status"):
            Verdict.decode(canonical_json(body))


# --- closed and strict schemas -----------------------------------------------------------------


def _request_dict() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(sample_request().encode())
    return data


def _set_path(data: dict[str, Any], path: str, value: object) -> None:
    *parents, last = path.split(".")
    node: Any = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    node[int(last) if last.isdigit() else last] = value


@pytest.mark.parametrize("where", ["", "device.", "sims.0."])
def test_unknown_fields_are_refused(where: str) -> None:
    data = _request_dict()
    _set_path(data, where + "surprise", 1)
    with pytest.raises(MalformedMessage, match=r"surprise.*Extra inputs are not permitted"):
        ActivationRequest.decode(canonical_json(data))


def test_unknown_verdict_and_error_fields_are_refused() -> None:
    body = json.loads(sample_verdict().encode())
    body["unlock_code"] = "1234"
    with pytest.raises(MalformedMessage, match="unlock_code"):
        Verdict.decode(canonical_json(body))
    ok = {"error": {"code": "nonce_replayed", "message": "seen before"}}
    assert ErrorBody.model_validate(ok).error.code == "nonce_replayed"
    with pytest.raises(ValueError, match="Extra inputs"):
        ErrorBody.model_validate({"error": {**ok["error"], "detail": "x"}})


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("protocol", "1"),
        ("protocol", 1.0),
        ("protocol", True),
        ("protocol", 3),
        ("protocol", 0),
        ("nonce", 1234567890123456),
        ("nonce", "short"),
        ("nonce", "has spaces in it!!"),
        ("nonce", "x" * 65),
        ("device.serial", 12345),
        ("device.serial", "abc"),
        ("device.serial", "RN10P-2109"),
        ("device.imeis", "867531040000016"),
        ("device.imeis", []),
        ("device.imeis", [make_imei("86753104", i) for i in range(3)]),
        ("device.imeis.0", 867531040000016),
        ("device.imeis.0", "867531040000017"),
        ("device.model", ""),
        ("device.model", "x" * 65),
        ("device.market", "mi"),
        ("device.market", "MIX"),
        ("device.bootloader_unlocked", 0),
        ("device.bootloader_unlocked", "false"),
        ("sims.0.slot", "1"),
        ("sims.0.slot", 0),
        ("sims.0.slot", 3),
        ("sims.0.iccid", "1953010000000000011"),
        ("sims.0.iccid", "89530100000000000"),
        ("sims.0.iccid", 8953010000000000011),
        ("sims.0.home_mcc", 368),
        ("sims.0.home_mcc", "068"),
        ("sims.0.home_mnc", "1"),
        ("sims.0.home_mcc", "368\n"),  # "$" alone would let a trailing newline through
        ("sims.0.home_mnc", "01\n"),
        ("nonce", "abcdefghijklmnop\n"),
        ("sims.0.roaming", "no"),
        ("sims.0.serving_mcc", "368"),  # without serving_mnc
        ("certificates", []),
        ("certificates", ["A", "B", "C", "D"]),
        ("certificates", ["A" * 4097]),
        ("certificates", "AAAA"),
        ("sims", None),
    ],
)
def test_request_fields_are_strictly_typed_and_constrained(path: str, value: object) -> None:
    data = _request_dict()
    _set_path(data, path, value)
    with pytest.raises(MalformedMessage):
        ActivationRequest.decode(canonical_json(data))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("issued_at", "1630497600"),
        ("issued_at", 1630497600.5),
        ("issued_at", -1),
        ("sequence", 0),
        ("sequence", True),
        ("reason", "ok"),
        ("reason", "X"),
        ("message", "x" * 1001),
        ("next_checkin_after", 59),
        ("imei", "867531040000017"),
        ("device_serial", ""),
    ],
)
def test_verdict_fields_are_strictly_typed_and_constrained(field: str, value: object) -> None:
    body = json.loads(sample_verdict().encode())
    body[field] = value
    with pytest.raises(MalformedMessage, match=field):
        Verdict.decode(canonical_json(body))


@pytest.mark.parametrize("missing", ["device", "sims", "nonce", "certificates"])
def test_required_request_fields(missing: str) -> None:
    data = _request_dict()
    del data[missing]
    with pytest.raises(MalformedMessage, match=f"{missing}: Field required"):
        ActivationRequest.decode(canonical_json(data))


def test_defaults_are_the_documented_ones() -> None:
    data = _request_dict()
    del data["protocol"]
    del data["device"]["bootloader_unlocked"]
    del data["sims"][0]["roaming"]
    decoded = ActivationRequest.decode(canonical_json(data))
    assert decoded.protocol == 1
    assert decoded.device.bootloader_unlocked is False
    assert decoded.sims[0].roaming is False
    assert decoded.sims[0].serving is None


def test_sim_slots_are_unique_and_at_most_two() -> None:
    data = _request_dict()
    data["sims"].append(dict(data["sims"][0]))
    with pytest.raises(MalformedMessage, match="slot may appear once"):
        ActivationRequest.decode(canonical_json(data))
    data["sims"][1]["slot"] = 2
    assert [s.slot for s in ActivationRequest.decode(canonical_json(data)).sims] == [1, 2]
    data["sims"].append({**data["sims"][0], "slot": 1})
    with pytest.raises(MalformedMessage, match="sims"):
        ActivationRequest.decode(canonical_json(data))


def test_serving_network_is_both_or_neither() -> None:
    with pytest.raises(ValueError, match="go together"):
        SimReport(
            slot=1, iccid="8953010000000000011", home_mcc="368", home_mnc="01", serving_mnc="01"
        )
    sim = SimReport(
        slot=2,
        iccid="89490200001234567890",
        home_mcc="262",
        home_mnc="01",
        serving_mcc="250",
        serving_mnc="32",
        roaming=True,
    )
    assert (sim.home, sim.serving) == ("262-01", "250-32")


def test_validation_errors_are_summarised() -> None:
    data = _request_dict()
    for key in ("a", "b", "c", "d", "e", "f", "g"):
        data[key] = 1
    with pytest.raises(MalformedMessage) as info:
        ActivationRequest.decode(canonical_json(data))
    assert info.value.message.count("Extra inputs are not permitted") == 5
    assert info.value.message.endswith("(+2 more)")


# --- body limits and non-JSON ------------------------------------------------------------------


def test_oversized_body_is_payload_too_large() -> None:
    with pytest.raises(PayloadTooLarge) as info:
        ActivationRequest.decode(b" " * (MAX_BODY_BYTES + 1))
    assert (info.value.code, info.value.status) == ("payload_too_large", 413)
    with pytest.raises(PayloadTooLarge):
        Verdict.decode(b"{" + b" " * MAX_BODY_BYTES + b"}")


def test_a_body_at_the_limit_is_read() -> None:
    # No canonical request reaches 16 KiB (every field is bounded), so padding makes it one
    # that is read (not refused for its size) and then refused as not canonical.
    raw = sample_request().encode()
    padded = raw[:-1] + b" " * (MAX_BODY_BYTES - len(raw)) + b"}"
    assert len(padded) == MAX_BODY_BYTES
    with pytest.raises(MalformedMessage, match="not canonical"):
        ActivationRequest.decode(padded)
    with pytest.raises(PayloadTooLarge):
        ActivationRequest.decode(padded + b" ")


@pytest.mark.parametrize(
    "raw",
    [b"", b"not json", b"\xff\xfe\x00", b"{", b"[1, 2]", b"null", b'"text"', b"42", b"{}garbage"],
)
def test_non_json_or_non_object_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedMessage) as info:
        ActivationRequest.decode(raw)
    assert (info.value.code, info.value.status) == ("malformed_request", 400)
    with pytest.raises(MalformedMessage):
        Verdict.decode(raw)


# --- error codes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (MalformedMessage, "malformed_request", 400),
        (PayloadTooLarge, "payload_too_large", 413),
        (SignatureError, "signature_invalid", 401),
        (StaleMessage, "signature_stale", 401),
        (ReplayedNonce, "nonce_replayed", 409),
        (CertificateError, "certificate_invalid", 403),
        (VerdictRejected, "verdict_rejected", 502),
    ],
)
def test_error_codes_and_statuses(error: type[ProtocolError], code: str, status: int) -> None:
    exc = error("what went wrong")
    assert (exc.code, exc.status, exc.message) == (code, status, "what went wrong")
    assert isinstance(exc, ProtocolError)
    body = ErrorBody(error=ErrorBody.Detail(code=exc.code, message=exc.message))
    assert canonical_json(body.model_dump()) == (
        b'{"error":{"code":"' + code.encode() + b'","message":"what went wrong"}}'
    )


def test_signature_errors_share_a_base() -> None:
    assert issubclass(StaleMessage, SignatureError)
    assert issubclass(ReplayedNonce, SignatureError)
    assert SignatureError("x", code="custom").code == "custom"
