"""The lies a hostile vendor tells a locked phone, for ``tests/functional/test_hostile_vendor.py``.

``Rig`` is a provisioned phone pinning ``VENDOR_KEY``, its real client and the hostile vendor it
talks to (``tests/support/hostile_vendor.py``); ``ATTACKS`` names each bad answer, how to make it
from the phone's request, and the error code the phone must refuse it with.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from http_message_signatures import algorithms

from phone_sim.client.vendor_client import VendorClient
from phone_sim.device.phone import Phone, VerdictOutcome
from phone_sim.device.storage import DeviceStorage
from phone_sim.protocol.clock import FixedClock
from phone_sim.protocol.keys import vendor_key_id
from phone_sim.protocol.messages import Verdict, VerdictStatus
from tests.support.hostile_vendor import HostileVendor, Reply, SeenRequest, signed, streamed_bomb

START = 1630497600
DAY, HOUR = 86400, 3600
#: the client's whole budget for one exchange, kept short so the slow attacks end quickly
TIMEOUT = 1.0

VENDOR_KEY = ed25519.Ed25519PrivateKey.generate()
VENDOR_KEY_ID = vendor_key_id(VENDOR_KEY.public_key())


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
