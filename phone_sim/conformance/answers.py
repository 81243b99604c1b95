"""What the kit requires of an answer, from the spec: a verdict (PROTOCOL.md sections 7 and 8),
a time answer (section 2.1), or an error (section 9).

Each check raises :class:`~phone_sim.conformance.errors.CaseFailed` with a one-line reason. The
signature and the body are checked with ``phone_sim.protocol``, the implementation both sides
share (a phone of ours runs exactly these checks); what binds an answer to its request (the
nonce, the device, the sequence, the time) is checked here, as section 8 states it.
"""

from __future__ import annotations

import datetime as dt
import json

from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.protocol.errors import ProtocolError
from phone_sim.protocol.messages import Verdict
from phone_sim.protocol.signing import WireResponse, verify_verdict_response
from phone_sim.protocol.timesync import TimeAnswer

from .errors import CaseFailed, NotSignedByThePinnedKey
from .identities import Identity
from .wire import Answer, Exchange

#: section 6: a server's time and a signature's ``created`` may differ by this much
SKEW = 300


def _wire(answer: Answer) -> WireResponse:
    headers: dict[str, str] = {}
    for name, value in answer.headers:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return WireResponse(answer.status, headers, answer.body)


def _signed_body(
    answer: Answer, key: ed25519.Ed25519PublicKey, key_id: str, now: int, what: str
) -> None:
    if answer.error is not None:
        raise CaseFailed(f"no {what}: {answer.error}")
    if answer.status != 200:
        raise CaseFailed(f"expected 200 with a {what}, got {answer.describe()}")
    if answer.header("Signature") is None:
        raise CaseFailed(f"the {what} is not signed (no Signature)")
    try:
        verify_verdict_response(
            _wire(answer), public_key=key, key_id=key_id, now=dt.datetime.fromtimestamp(now, dt.UTC)
        )
    except ProtocolError as exc:
        raise NotSignedByThePinnedKey(f"the {what}'s signature does not verify: {exc}") from None


def verdict(
    exchange: Exchange,
    *,
    identity: Identity,
    nonce: str,
    key: ed25519.Ed25519PublicKey,
    key_id: str,
    now: int,
    last_sequence: int | None,
) -> Verdict:
    """The verdict answering a request with ``nonce`` from ``identity``, checked as a phone
    checks it (section 8 steps 1 to 8, with the server's time ``now`` as the phone's)."""
    answer = exchange.answer
    _signed_body(answer, key, key_id, now, "verdict")
    try:
        found = Verdict.decode(answer.body)
    except ProtocolError as exc:
        raise CaseFailed(f"the verdict is not a canonical, strict Verdict: {exc}") from None
    if found.device_serial != identity.serial:
        raise CaseFailed(
            f"the verdict is for device {found.device_serial!r}, not {identity.serial!r}"
        )
    if found.imei not in identity.claims.imeis:
        raise CaseFailed(f"the verdict's imei {found.imei} is not one of the device's")
    if found.nonce != nonce:
        raise CaseFailed(f"the verdict answers nonce {found.nonce!r}, not the request's {nonce!r}")
    if last_sequence is not None and found.sequence <= last_sequence:
        raise CaseFailed(
            f"sequence {found.sequence} does not increase (the device's last was {last_sequence})"
        )
    if found.expires_at <= now:
        raise CaseFailed(
            f"the verdict has expired on arrival (expires_at {found.expires_at}, now {now})"
        )
    if abs(found.issued_at - now) > SKEW:
        raise CaseFailed(
            f"issued_at {found.issued_at} is more than {SKEW} s from the server's time {now}"
        )
    return found


def time_answer(
    exchange: Exchange, *, nonce: str, key: ed25519.Ed25519PublicKey, key_id: str
) -> TimeAnswer:
    """The signed time answering ``nonce`` (section 2.1)."""
    answer = exchange.answer
    try:
        unverified = TimeAnswer.decode(answer.body) if answer.status == 200 else None
    except ProtocolError as exc:
        raise CaseFailed(f"the time answer is not a canonical, strict TimeAnswer: {exc}") from None
    # The signature's created must not lie ahead of the time it signs.
    _signed_body(answer, key, key_id, unverified.now if unverified else 0, "time answer")
    assert unverified is not None
    if unverified.nonce != nonce:
        raise CaseFailed(
            f"the time answers nonce {unverified.nonce!r}, not the request's {nonce!r}"
        )
    return unverified


def refusal(exchange: Exchange, status: int, code: str) -> str:
    """Section 9: the error ``status`` with body ``{"error": {"code": code, "message": ...}}``."""
    answer = exchange.answer
    want = f"{status} {code}"
    if answer.error is not None:
        raise CaseFailed(f"expected {want}, got no answer: {answer.error}")
    try:
        data = json.loads(answer.body)
        error = data["error"]
        found_code, message = error["code"], error["message"]
        if set(data) != {"error"} or set(error) != {"code", "message"}:
            raise ValueError("other keys")
        if not isinstance(found_code, str) or not isinstance(message, str):
            raise TypeError("code and message must be strings")
    except (ValueError, KeyError, TypeError) as exc:
        if answer.status == status:
            raise CaseFailed(
                f"expected {want}; the {status}'s body is not an ErrorBody ({exc})"
            ) from None
        raise CaseFailed(f"expected {want}, got {answer.describe()}") from None
    if (answer.status, found_code) != (status, code):
        raise CaseFailed(f"expected {want}, got {answer.status} {found_code}: {message}")
    return f"{want}: {message}"
