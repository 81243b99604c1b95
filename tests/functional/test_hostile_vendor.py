"""The real phone client and device model against a vendor that lies, over real HTTP on loopback.

A locked phone asks its vendor again; the answer comes from :mod:`tests.support.hostile_vendor`,
which sends whatever each test says. Every answer below must be refused the same way: the phone
stays locked, nothing it stored changes (state file included), and it shows "Activation server
error". ``test_a_fresh_valid_signed_release_unlocks`` plays the honest vendor through the same
rig and shows a fresh, valid, signed release does unlock it: the refusals are not the harness
refusing everything. The last tests put a man in the middle (``tests/support/mitm.py``) and the
scenarios' fault proxy (``phone_sim.faults``) in front of the real vendor server.

The model-level versions of the verdict checks are in ``tests/unit/test_phone_model.py``; the
corrupt-then-verify sweeps of every byte are in ``tests/unit/test_protocol_vectors.py``.
"""

from __future__ import annotations

import base64
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from http_message_signatures import algorithms

from phone_sim.client.vendor_client import VendorClient
from phone_sim.device.phone import Phone, VerdictOutcome
from phone_sim.device.provisioning import provision
from phone_sim.device.sims import Sim, carrier
from phone_sim.device.state import Activation, DeviceState
from phone_sim.device.storage import DeviceStorage
from phone_sim.faults import FaultMode, FaultProxy
from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.identity import Factory
from phone_sim.protocol.keys import public_key_pem, vendor_key_id
from phone_sim.protocol.messages import Verdict, VerdictStatus
from tests.support.hostile_vendor import (
    HostileVendor,
    Reply,
    SeenRequest,
    hostile_vendor,
    signed,
    streamed_bomb,
)
from tests.support.mitm import Headers, mitm_proxy, untouched
from tests.support.one_phone import OnePhoneWorld

START = 1630497600
DAY, HOUR = 86400, 3600
#: the client's whole budget for one exchange, kept short so the slow attacks end quickly
TIMEOUT = 1.0

VENDOR_KEY = ed25519.Ed25519PrivateKey.generate()
VENDOR_KEY_ID = vendor_key_id(VENDOR_KEY.public_key())


@pytest.fixture(scope="module")
def factory() -> Factory:
    return Factory.create()


@dataclass
class Rig:
    """A provisioned phone pinning VENDOR_KEY, its client, and the vendor it talks to."""

    phone: Phone
    client: VendorClient
    storage: DeviceStorage
    clock: FixedClock
    vendor: HostileVendor

    def ask(self, answer: Callable[[SeenRequest], Reply]) -> VerdictOutcome:
        self.vendor.answer = answer
        attempt = self.phone.begin_activation()
        return self.phone.complete_activation(attempt, self.client.send(attempt))

    def verdict(self, request: SeenRequest, **changes: object) -> Verdict:
        """What an honest vendor would answer to ``request``, with ``changes``."""
        now = int(self.clock.now())
        fields: dict[str, object] = {
            "device_serial": self.phone.identity.serial,
            "imei": self.phone.identity.imeis[0],
            "status": VerdictStatus.ACTIVATED,
            "reason": "RELEASED",
            "message": "Your device can now be used.",
            "nonce": request.nonce,
            "issued_at": now,
            "expires_at": now + 7 * 86400,
            "sequence": self.phone.persisted.last_sequence + 1,
            "policy_version": "test",
        } | changes
        return Verdict.model_validate(fields)

    def honest(self, request: SeenRequest, **changes: object) -> Reply:
        body = self.verdict(request, **changes).encode()
        return signed(body, key=VENDOR_KEY, key_id=VENDOR_KEY_ID, created=int(self.clock.now()))


@pytest.fixture
def rig(tmp_path: Path, factory: Factory) -> Iterator[Rig]:
    storage = provision(
        tmp_path / "phone",
        factory,
        public_key_pem(VENDOR_KEY.public_key()),
        rng=random.Random(5),
    )
    clock = FixedClock(START)
    phone = Phone.load(storage, clock=clock, rng=random.Random(6))
    with hostile_vendor() as vendor:
        client = VendorClient(
            base_url=vendor.url,
            device_key=storage.load_key(),
            device_serial=phone.identity.serial,
            vendor_key=storage.load_vendor_key(),
            clock=clock,
            timeout=TIMEOUT,
        )
        yield Rig(phone, client, storage, clock, vendor)


@pytest.fixture
def locked(rig: Rig) -> Rig:
    """The rig's phone, activated into a lock by the genuine vendor (sequence 1)."""
    rig.phone.power_on()
    rig.phone.finish_boot()
    outcome = rig.ask(
        lambda request: rig.honest(
            request, status=VerdictStatus.LOCKED, reason="EMBARGOED_TERRITORY", message="Locked"
        )
    )
    assert outcome.accepted and rig.phone.state is DeviceState.LOCKED
    rig.clock.advance(3600)
    return rig


def _flip_signature_byte(reply: Reply) -> Reply:
    # A decoded byte: a base64 character may sit in padding bits that decode to the same bytes.
    headers = dict(reply.headers)
    raw = bytearray(base64.b64decode(headers["Signature"].removeprefix("vendor=:").rstrip(":")))
    raw[17] ^= 0x01
    headers["Signature"] = f"vendor=:{base64.b64encode(bytes(raw)).decode()}:"
    return Reply(headers=headers, body=reply.body)


def _flip_body_byte(reply: Reply) -> Reply:
    body = bytearray(reply.body)
    body[len(body) // 2] ^= 0x01
    return Reply(headers=reply.headers, body=bytes(body))


def _edit_input(reply: Reply, old: str, new: str) -> Reply:
    headers = dict(reply.headers)
    assert old in headers["Signature-Input"]
    headers["Signature-Input"] = headers["Signature-Input"].replace(old, new)
    return Reply(headers=headers, body=reply.body)


def _relaid(body: bytes, *, indent: int | None = None, reverse: bool = False) -> bytes:
    """The same JSON value laid out otherwise: indented, or its keys in reverse order."""
    value = json.loads(body)
    if reverse:
        return json.dumps(dict(reversed(list(value.items()))), separators=(",", ":")).encode()
    return json.dumps(value, indent=indent, sort_keys=True).encode()


def _signed_body(body: bytes) -> Reply:
    """``body``, whatever it is, properly signed by the pinned vendor key."""
    return signed(body, key=VENDOR_KEY, key_id=VENDOR_KEY_ID, created=START + 3600)


HTML = b"<!doctype html><html><body><h1>Welcome to Hotel Wi-Fi</h1></body></html>"

#: name -> (what the vendor answers, given the rig and the phone's request; expected error code)
ATTACKS: dict[str, tuple[Callable[[Rig, SeenRequest], Reply], str]] = {
    # --- not a signed answer at all
    "unsigned verdict": (
        lambda rig, r: Reply(
            headers={"Content-Type": "application/json"}, body=rig.verdict(r).encode()
        ),
        "unsigned",
    ),
    "HTML page (captive portal)": (
        lambda rig, r: Reply(headers={"Content-Type": "text/html"}, body=HTML),
        "unsigned",
    ),
    "HTML error page": (
        lambda rig, r: Reply(status=502, headers={"Content-Type": "text/html"}, body=HTML),
        "server_refused",
    ),
    "garbage": (lambda rig, r: Reply(body=bytes(range(256)) * 4), "unsigned"),
    "empty body": (lambda rig, r: Reply(), "unsigned"),
    "garbage signed by the vendor key": (
        lambda rig, r: signed(
            b"\xff\xfe{not json", key=VENDOR_KEY, key_id=VENDOR_KEY_ID, created=START
        ),
        "malformed_verdict",
    ),
    # --- signed by the pinned key, but not canonical UTF-8 JSON (refused since version 2)
    "signed, pretty-printed": (
        lambda rig, r: _signed_body(_relaid(rig.verdict(r).encode(), indent=2)),
        "malformed_verdict",
    ),
    "signed, keys in another order": (
        lambda rig, r: _signed_body(_relaid(rig.verdict(r).encode(), reverse=True)),
        "malformed_verdict",
    ),
    "signed, status twice (locked, then activated)": (
        lambda rig, r: _signed_body(
            rig.verdict(r)
            .encode()
            .replace(b'"status":"activated"', b'"status":"locked","status":"activated"')
        ),
        "malformed_verdict",
    ),
    "signed, with a byte order mark": (
        lambda rig, r: _signed_body(b"\xef\xbb\xbf" + rig.verdict(r).encode()),
        "malformed_verdict",
    ),
    "signed, in UTF-16": (
        lambda rig, r: _signed_body(rig.verdict(r).encode().decode().encode("utf-16")),
        "malformed_verdict",
    ),
    # --- broken transport
    "truncated verdict": (
        lambda rig, r: Reply(
            headers=rig.honest(r).headers, body=rig.honest(r).body[:100], declared_length=600
        ),
        "truncated",
    ),
    "huge body, declared": (
        lambda rig, r: Reply(headers={"Content-Type": "application/json"}, body=b" " * 4_000_000),
        "response_too_large",
    ),
    "huge body, chunked, endless": (
        lambda rig, r: Reply(
            headers={"Content-Type": "application/json"}, body=b" " * 4096, repeat_chunked=65536
        ),
        "response_too_large",
    ),
    "gzip bomb": (
        lambda rig, r: Reply(
            headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            # compressed as it is sent: built whole first, it could take the phone's second
            stream=streamed_bomb(64 * 1024 * 1024),
        ),
        "response_too_large",
    ),
    "a redirect (307) to another server, carrying the vendor's genuine answer": (
        lambda rig, r: Reply(
            status=307,
            headers=rig.honest(r).headers | {"Location": "http://127.0.0.1:9/v1/activation"},
            body=rig.honest(r).body,
        ),
        "redirect_refused",
    ),
    "a brotli-encoded answer": (
        lambda rig, r: Reply(
            headers={"Content-Type": "application/json", "Content-Encoding": "br"},
            body=b"\x1b\x03\x00\xf8\xa5\x02",
        ),
        "encoding_refused",
    ),
    "silence": (lambda rig, r: Reply(delay=TIMEOUT * 2, body=b"{}"), "timeout"),
    "status line and headers dripped": (
        lambda rig, r: Reply(headers=rig.honest(r).headers, body=rig.honest(r).body, drip_head=0.2),
        "timeout",
    ),
    "slow drip": (
        lambda rig, r: Reply(headers=rig.honest(r).headers, body=rig.honest(r).body, drip=0.2),
        "timeout",
    ),
    "dropped connection": (lambda rig, r: Reply(drop=True), "unreachable"),
    # --- signed, but not by the pinned key with the fixed algorithm
    "another Ed25519 key claiming the pinned keyid": (
        lambda rig, r: signed(
            rig.verdict(r).encode(),
            key=ed25519.Ed25519PrivateKey.generate(),
            key_id=VENDOR_KEY_ID,
            created=START,
        ),
        "signature_invalid",
    ),
    "an ECDSA key, alg ecdsa-p256-sha256": (
        lambda rig, r: signed(
            rig.verdict(r).encode(),
            key=ec.generate_private_key(ec.SECP256R1()),
            key_id=VENDOR_KEY_ID,
            created=START,
            algorithm=algorithms.ECDSA_P256_SHA256,
        ),
        "signature_invalid",
    ),
    "HMAC keyed with the vendor's public key": (
        lambda rig, r: signed(
            rig.verdict(r).encode(),
            key=VENDOR_KEY.public_key().public_bytes_raw(),
            key_id=VENDOR_KEY_ID,
            created=START,
            algorithm=algorithms.HMAC_SHA256,
        ),
        "signature_invalid",
    ),
    "the pinned key, alg missing": (
        lambda rig, r: signed(
            rig.verdict(r).encode(),
            key=VENDOR_KEY,
            key_id=VENDOR_KEY_ID,
            created=START,
            include_alg=False,
        ),
        "signature_invalid",
    ),
    "the pinned key, another keyid": (
        lambda rig, r: signed(
            rig.verdict(r).encode(), key=VENDOR_KEY, key_id="vendor-0000000000000000", created=START
        ),
        "signature_invalid",
    ),
    "the pinned key, @status not covered": (
        lambda rig, r: signed(
            rig.verdict(r).encode(),
            key=VENDOR_KEY,
            key_id=VENDOR_KEY_ID,
            created=START,
            components=("content-type", "content-digest"),
        ),
        "signature_invalid",
    ),
    "the pinned key, signed as a 403 answer": (
        lambda rig, r: signed(
            rig.verdict(r).encode(), key=VENDOR_KEY, key_id=VENDOR_KEY_ID, created=START, status=403
        ),
        "signature_invalid",
    ),
    # --- one byte changed in a genuine answer
    "a byte of the body": (lambda rig, r: _flip_body_byte(rig.honest(r)), "signature_invalid"),
    "status locked -> activated": (
        lambda rig, r: Reply(
            headers=rig.honest(r, status=VerdictStatus.LOCKED).headers,
            body=rig.honest(r, status=VerdictStatus.LOCKED).body.replace(
                b'"locked"', b'"activated"'
            ),
        ),
        "signature_invalid",
    ),
    "created in the signature parameters": (
        lambda rig, r: _edit_input(rig.honest(r), f"created={START + 3600}", f"created={START}"),
        "signature_invalid",
    ),
    "a byte of the signature": (
        lambda rig, r: _flip_signature_byte(rig.honest(r)),
        "signature_invalid",
    ),
    "no signature header": (
        lambda rig, r: Reply(
            headers={k: v for k, v in rig.honest(r).headers.items() if k != "Signature"},
            body=rig.honest(r).body,
        ),
        "unsigned",
    ),
    # --- genuinely signed by the pinned key, but not for this phone, now, or this request
    "for another device": (
        lambda rig, r: rig.honest(r, device_serial="OTHERPHONE01"),
        "verdict_rejected",
    ),
    "for another IMEI": (
        lambda rig, r: rig.honest(r, imei="490154203237518"),
        "verdict_rejected",
    ),
    "for a nonce the phone did not send": (
        lambda rig, r: rig.honest(r, nonce="an-attacker-made-up-nonce"),
        "verdict_rejected",
    ),
    "an old sequence (a rolled-back vendor)": (
        lambda rig, r: rig.honest(r, sequence=1),
        "verdict_rejected",
    ),
    "expired": (
        lambda rig, r: rig.honest(r, issued_at=START - 8 * 86400, expires_at=START + 3600),
        "verdict_rejected",
    ),
    "issued in the phone's future": (
        lambda rig, r: rig.honest(r, issued_at=START + 3600 + 86400),
        "verdict_rejected",
    ),
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_a_locked_phone_refuses_a_bad_answer_and_changes_nothing(locked: Rig, name: str) -> None:
    make_reply, code = ATTACKS[name]
    rig = locked
    before = rig.phone.persisted
    on_disk = rig.storage.state_path.read_bytes()
    started = time.monotonic()

    outcome = rig.ask(lambda request: make_reply(rig, request))

    exchange = rig.phone.exchanges[-1]
    assert not outcome.accepted
    if code == "verdict_rejected":  # genuine signature: the client passes it, the phone refuses
        assert exchange.signature == "valid" and exchange.error_code is None
        assert outcome.detail.startswith("verdict rejected"), outcome.detail
    else:
        assert exchange.error_code == code, exchange.error
    # Bounded, even for the slow attacks (a drip held the client 53 s before the deadline).
    assert time.monotonic() - started < TIMEOUT + 4
    assert rig.phone.state is DeviceState.LOCKED
    assert rig.phone.persisted == before
    assert rig.storage.state_path.read_bytes() == on_disk
    assert rig.phone.last_error is not None
    assert rig.phone.last_error.startswith("Activation server error")


def test_an_endless_answer_is_read_only_up_to_the_limit(locked: Rig) -> None:
    # The vendor would send 256 MiB; the phone stops after its 16 KiB limit, so no more than
    # the loopback socket buffers could hold got out before the vendor found nobody reading.
    attack, _ = ATTACKS["huge body, chunked, endless"]
    outcome = locked.ask(lambda request: attack(locked, request))
    assert not outcome.accepted and locked.phone.exchanges[-1].error_code == "response_too_large"
    assert locked.vendor.sent < 32 * 1024 * 1024


def test_a_fresh_valid_signed_release_unlocks(locked: Rig) -> None:
    # The control: the same rig, the same phone, an honest answer.
    outcome = locked.ask(lambda request: locked.honest(request))
    assert outcome.accepted, locked.phone.last_error
    assert locked.phone.state is DeviceState.ACTIVATED
    assert locked.phone.persisted.activation is Activation.ACTIVATED
    assert locked.phone.persisted.last_sequence == 2


def test_a_recorded_answer_replayed_later_is_refused(locked: Rig) -> None:
    # The attacker recorded the release that unlocked the phone once...
    recorded: list[Reply] = []

    def release(request: SeenRequest) -> Reply:
        recorded.append(locked.honest(request))
        return recorded[-1]

    assert locked.ask(release).accepted
    assert locked.ask(
        lambda request: locked.honest(
            request, status=VerdictStatus.LOCKED, reason="INVESTIGATION_HOLD"
        )
    ).accepted
    assert locked.phone.state is DeviceState.LOCKED
    # ... and replays it, byte for byte, to the phone locked again since.
    outcome = locked.ask(lambda request: recorded[0])
    assert not outcome.accepted and "nonce" in outcome.detail
    assert locked.phone.state is DeviceState.LOCKED


# --- through the real vendor, with a man in the middle ------------------------------------------


def test_an_old_activated_verdict_replayed_to_a_phone_locked_since_is_refused(
    sim: OnePhoneWorld,
) -> None:
    """The story's attack: keep the "activated" answer from day one, replay it once locked."""
    assert sim.server is not None and sim.admin is not None
    recorded: list[tuple[Headers, bytes]] = []

    def record(headers: Headers, body: bytes) -> tuple[Headers, bytes]:
        recorded.append((dict(headers), body))
        return headers, body

    with mitm_proxy(sim.server.url) as mitm:
        sim.client.base_url = mitm.url
        mitm.tamper_response = record
        sim.phone.power_on()
        sim.phone.finish_boot()
        sim.phone.insert_sim(1, Sim.of(carrier("Cubacel")))
        assert sim.activate().accepted and sim.phone.state is DeviceState.ACTIVATED
        first_activated = recorded[0]
        assert b'"status":"activated"' in first_activated[1]
        sim.advance(3 * DAY + HOUR)  # the genuine vendor locks it at a check-in
        assert sim.phone.state is DeviceState.LOCKED
        locked_state = sim.phone.persisted

        mitm.tamper_response = lambda headers, body: first_activated
        outcome = sim.activate()
        assert not outcome.accepted
        assert "nonce" in outcome.detail  # the replayed verdict answers another request
        assert sim.phone.exchanges[-1].signature == "valid"  # the vendor did sign it, once
        assert sim.phone.state is DeviceState.LOCKED and sim.phone.persisted == locked_state
        assert (sim.phone.last_error or "").startswith("Activation server error")

        # Only the vendor's fresh answer to a new request, after an operator's release, unlocks.
        sim.admin.release(sim.phone.identity.serial, reason="cleared")
        mitm.tamper_response = untouched
        assert sim.activate().accepted
        assert sim.phone.state is DeviceState.ACTIVATED and sim.phone.lock_reason == "RELEASED"


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        (FaultMode.TAMPERED, "signature_invalid"),
        (FaultMode.REPLAY, None),  # the vendor's own signature, on an answer to another request
        (FaultMode.GARBAGE, "unsigned"),
        (FaultMode.DROP, "unreachable"),
        (FaultMode.SLOW, "timeout"),
    ],
)
def test_each_fault_proxy_mode_leaves_a_locked_phone_locked(
    sim: OnePhoneWorld, mode: FaultMode, code: str | None
) -> None:
    """The fault-injection proxy that scenarios use (``phone_sim.faults``), on a locked phone."""
    assert sim.server is not None
    with FaultProxy(sim.server.url) as proxy:
        sim.client.base_url = proxy.url
        sim.client.timeout = TIMEOUT
        sim.phone.power_on()
        sim.phone.finish_boot()
        sim.phone.insert_sim(1, Sim.of(carrier("Cubacel")))
        assert sim.activate().accepted
        sim.advance(3 * DAY + HOUR)
        assert sim.phone.state is DeviceState.LOCKED
        locked_state = sim.phone.persisted

        proxy.set_fault(mode, delay=TIMEOUT * 2)
        outcome = sim.activate()
        assert not outcome.accepted
        assert sim.phone.exchanges[-1].error_code == code, sim.phone.exchanges[-1].error
        assert sim.phone.state is DeviceState.LOCKED and sim.phone.persisted == locked_state
        assert (sim.phone.last_error or "").startswith("Activation server error")
