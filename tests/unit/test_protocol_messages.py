"""Protocol messages: canonical encoding, closed strict schemas, IMEI and MCC/MNC rules, limits."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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
    is_valid_imei,
    is_valid_mcc,
    is_valid_mnc,
    luhn_check_digit,
    make_imei,
)
from phone_sim.protocol.messages import (
    MAX_BODY_BYTES,
    ActivationRequest,
    DeviceReport,
    ErrorBody,
    SimReport,
    Verdict,
    VerdictStatus,
    canonical_json,
)

# --- strategies --------------------------------------------------------------------------------

# Lone surrogates cannot be encoded as UTF-8, so no wire message can carry them.
_text = st.characters(codec="utf-8")
imeis = st.builds(make_imei, st.from_regex(r"[0-9]{8}", fullmatch=True), st.integers(0, 999_999))
mccs = st.from_regex(r"[2-7][0-9]{2}", fullmatch=True)
mncs = st.from_regex(r"[0-9]{2,3}", fullmatch=True)
nonces = st.from_regex(r"[A-Za-z0-9_-]{16,64}", fullmatch=True)


@st.composite
def sim_reports(draw: st.DrawFn, slot: int) -> SimReport:
    serving = draw(st.none() | st.tuples(mccs, mncs))
    return SimReport(
        slot=slot,
        iccid=draw(st.from_regex(r"89[0-9]{16,18}", fullmatch=True)),
        home_mcc=draw(mccs),
        home_mnc=draw(mncs),
        serving_mcc=None if serving is None else serving[0],
        serving_mnc=None if serving is None else serving[1],
        roaming=draw(st.booleans()),
    )


@st.composite
def activation_requests(draw: st.DrawFn) -> ActivationRequest:
    slots = draw(st.sampled_from([(), (1,), (2,), (1, 2), (2, 1)]))
    return ActivationRequest(
        device=DeviceReport(
            serial=draw(st.from_regex(r"[A-Za-z0-9]{4,32}", fullmatch=True)),
            imeis=draw(st.lists(imeis, min_size=1, max_size=2)),
            model=draw(st.text(_text, min_size=1, max_size=64)),
            market=draw(st.from_regex(r"[A-Z]{2}", fullmatch=True)),
            firmware=draw(st.text(_text, min_size=1, max_size=64)),
            bootloader_unlocked=draw(st.booleans()),
        ),
        sims=[draw(sim_reports(slot)) for slot in slots],
        nonce=draw(nonces),
        certificates=draw(
            st.lists(st.text("ABCDEFabcdef0123456789+/=", max_size=200), min_size=1, max_size=3)
        ),
    )


verdicts = st.builds(
    Verdict,
    device_serial=st.text(_text, min_size=1, max_size=32),
    imei=imeis,
    status=st.sampled_from(VerdictStatus),
    reason=st.from_regex(r"[A-Z][A-Z0-9_]{1,63}", fullmatch=True),
    message=st.text(_text, max_size=1000),
    nonce=nonces,
    issued_at=st.integers(0, 2**40),
    expires_at=st.integers(0, 2**40),
    sequence=st.integers(1, 2**53 - 1),  # the I-JSON range (PROTOCOL.md section 1)
    policy_version=st.text(_text, max_size=64),
    next_checkin_after=st.none() | st.integers(60, 10**9),
)


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
    body = json.loads(_verdict().encode())
    for wire, status in [("activated", VerdictStatus.ACTIVATED), ("locked", VerdictStatus.LOCKED)]:
        body["status"] = wire
        assert Verdict.decode(canonical_json(body)).status is status
    for bad in ["LOCKED", "unlocked", "", 1, True, None]:
        body["status"] = bad
        with pytest.raises(MalformedMessage, match="status"):
            Verdict.decode(canonical_json(body))


# --- closed and strict schemas -----------------------------------------------------------------


def _request() -> ActivationRequest:
    return ActivationRequest(
        device=DeviceReport(
            serial="RN10P2109000001",
            imeis=[make_imei("86753104", 1)],
            model="Redmi Note 10 Pro",
            market="MI",
            firmware="V12.5.1.0.RKFMIXM",
        ),
        sims=[
            SimReport(slot=1, iccid="8953010000000000011", home_mcc="368", home_mnc="01"),
        ],
        nonce="abcdefghijklmnop",
        certificates=["AAAA"],
    )


def _verdict() -> Verdict:
    return Verdict(
        device_serial="RN10P2109000001",
        imei=make_imei("86753104", 1),
        status=VerdictStatus.ACTIVATED,
        reason="OK",
        message="",
        nonce="abcdefghijklmnop",
        issued_at=1630497600,
        expires_at=1631102400,
        sequence=1,
        policy_version="2021-09-01",
    )


def _request_dict() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_request().encode())
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
    body = json.loads(_verdict().encode())
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
    body = json.loads(_verdict().encode())
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
    raw = _request().encode()
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


# --- IMEI, MCC, MNC ----------------------------------------------------------------------------


def test_known_imei() -> None:
    # The worked example from the Luhn/IMEI literature.
    assert luhn_check_digit("49015420323751") == 8
    assert is_valid_imei("490154203237518")
    assert not is_valid_imei("490154203237519")


@given(st.from_regex(r"[0-9]{8}", fullmatch=True), st.integers(0, 999_999))
def test_make_imei_is_always_valid(tac: str, serial: int) -> None:
    imei = make_imei(tac, serial)
    assert len(imei) == 15
    assert imei.startswith(tac)
    assert is_valid_imei(imei)


@given(
    st.from_regex(r"[0-9]{8}", fullmatch=True),
    st.integers(0, 999_999),
    st.integers(0, 14),
    st.integers(1, 9),
)
def test_any_single_digit_change_breaks_the_imei(
    tac: str, serial: int, position: int, delta: int
) -> None:
    imei = make_imei(tac, serial)
    digit = str((int(imei[position]) + delta) % 10)
    assert not is_valid_imei(imei[:position] + digit + imei[position + 1 :])


def test_every_single_digit_change_of_one_imei_is_caught() -> None:
    imei = make_imei("86753104", 1)
    for position in range(15):
        for digit in "0123456789":
            changed = imei[:position] + digit + imei[position + 1 :]
            assert is_valid_imei(changed) == (changed == imei)


@pytest.mark.parametrize(
    "imei",
    [
        None,
        490154203237518,
        "49015420323751",
        "4901542032375180",
        "49015420323751a",
        "٤٩٠١٥٤٢٠٣٢٣٧٥١٨",  # Arabic-Indic digits: isdigit() but not ASCII
        " 90154203237518",
    ],
)
def test_invalid_imeis(imei: object) -> None:
    assert not is_valid_imei(imei)


@pytest.mark.parametrize(("tac", "serial"), [("1234567", 1), ("123456789", 1), ("1234567a", 1)])
def test_make_imei_refuses_bad_tac(tac: str, serial: int) -> None:
    with pytest.raises(ValueError, match="TAC"):
        make_imei(tac, serial)


@pytest.mark.parametrize("serial", [-1, 1_000_000])
def test_make_imei_refuses_bad_serial(serial: int) -> None:
    with pytest.raises(ValueError, match="serial"):
        make_imei("86753104", serial)


@pytest.mark.parametrize("mcc", ["262", "368", "432", "460", "250", "310", "405", "200", "799"])
def test_valid_mccs(mcc: str) -> None:
    assert is_valid_mcc(mcc)


@pytest.mark.parametrize(
    "mcc", ["068", "199", "800", "999", "36", "3680", "36a", 368, None, " 368"]
)
def test_invalid_mccs(mcc: object) -> None:
    assert not is_valid_mcc(mcc)


@pytest.mark.parametrize("mnc", ["01", "00", "32", "872", "192", "999"])
def test_valid_mncs(mnc: str) -> None:
    assert is_valid_mnc(mnc)


@pytest.mark.parametrize("mnc", ["1", "1234", "a1", "", 1, None, "01\n"])
def test_invalid_mncs(mnc: object) -> None:
    assert not is_valid_mnc(mnc)
