"""Protocol messages to test with: hypothesis strategies for every field, and one valid sample each.

The strategies draw only what the schemas accept (so a round trip must succeed); the samples
(:func:`sample_request`, :func:`sample_verdict`) are valid messages a test changes one field of.
Shared by ``tests/unit/test_protocol_messages.py`` and ``test_canonical_json.py``.
"""

from __future__ import annotations

from hypothesis import strategies as st

from phone_sim.protocol.imei import make_imei
from phone_sim.protocol.messages import (
    ActivationRequest,
    DeviceReport,
    SimReport,
    Verdict,
    VerdictStatus,
)

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


def sample_request() -> ActivationRequest:
    """A valid activation request: one phone, one SIM."""
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


def sample_verdict() -> Verdict:
    """A valid verdict: activated."""
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
