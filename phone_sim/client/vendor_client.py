"""Talks to the vendor server with ``requests``.

Every request is signed (RFC 9421) through a ``requests`` auth object; every answer is read with
a size bound and its vendor signature checked against the key pinned in the firmware. Failures
of any kind come back as an :class:`Exchange` with an error code, never as an exception, so the
UI and scenarios can show them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import requests
import urllib3
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from phone_sim.device.exchange import Exchange
from phone_sim.device.phone import ActivationAttempt
from phone_sim.protocol.clock import Clock, utc
from phone_sim.protocol.errors import ProtocolError
from phone_sim.protocol.keys import vendor_key_id
from phone_sim.protocol.messages import MAX_BODY_BYTES, ErrorBody, Verdict
from phone_sim.protocol.signing import (
    JSON,
    WireRequest,
    WireResponse,
    sign_request,
    verify_verdict_response,
)

DEFAULT_TIMEOUT = 10.0


class DeviceSignatureAuth(requests.auth.AuthBase):
    """Signs each prepared request with the device key, at the phone's clock, with a given nonce."""

    def __init__(
        self, key: ec.EllipticCurvePrivateKey, key_id: str, clock: Clock, nonce: str
    ) -> None:
        self.key = key
        self.key_id = key_id
        self.clock = clock
        self.nonce = nonce

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        wire = WireRequest(
            method=str(request.method),
            url=str(request.url),
            headers=dict(request.headers),
            body=body.encode() if isinstance(body, str) else bytes(body),
        )
        sign_request(
            wire, key=self.key, key_id=self.key_id, created=int(self.clock.now()), nonce=self.nonce
        )
        request.headers.update(wire.headers)
        return request


@dataclass
class VendorClient:
    base_url: str
    device_key: ec.EllipticCurvePrivateKey
    device_serial: str
    vendor_key: ed25519.Ed25519PublicKey
    clock: Clock
    timeout: float = DEFAULT_TIMEOUT
    max_response_bytes: int = MAX_BODY_BYTES
    session: requests.Session | None = None

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.vendor_key_id = vendor_key_id(self.vendor_key)
        if self.session is None:
            self.session = requests.Session()
            # The phone talks to its vendor directly; proxy settings of the host are not its own.
            self.session.trust_env = False

    def send(self, attempt: ActivationAttempt) -> Exchange:
        """POST the attempt's request and judge the answer's signature. Never raises for I/O."""
        url = self.base_url + attempt.kind.path
        body = attempt.request.encode()
        auth = DeviceSignatureAuth(self.device_key, self.device_serial, self.clock, attempt.nonce)
        prepared = requests.Request(
            "POST", url, data=body, headers={"Content-Type": JSON, "Accept": JSON}, auth=auth
        ).prepare()
        sent_at = self.clock.now()
        base = Exchange(
            kind=attempt.kind,
            url=url,
            request_headers=dict(prepared.headers),
            request_body=body,
            sent_at=sent_at,
        )
        started = time.monotonic()
        assert self.session is not None
        try:
            response = self.session.send(prepared, timeout=self.timeout, stream=True)
        except requests.Timeout as exc:
            return _failed(
                base, started, "timeout", f"vendor server did not answer in time ({exc})"
            )
        except requests.RequestException as exc:
            return _failed(
                base, started, "unreachable", f"vendor server unreachable ({type(exc).__name__})"
            )
        try:
            raw = _bounded_read(response, self.max_response_bytes, started + self.timeout)
        except _TooLarge:
            return _failed(
                base,
                started,
                "response_too_large",
                f"answer larger than {self.max_response_bytes} bytes",
                status=response.status_code,
            )
        except (_TooSlow, requests.Timeout, urllib3.exceptions.TimeoutError):
            return _failed(
                base,
                started,
                "timeout",
                f"vendor server did not finish its answer in {self.timeout:g} s",
                status=response.status_code,
            )
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            return _failed(base, started, "truncated", f"answer cut short ({type(exc).__name__})")
        finally:
            response.close()
        wire = WireResponse(response.status_code, dict(response.headers), raw)
        answered = replace(
            base,
            status=response.status_code,
            response_headers=wire.headers,
            response_body=raw,
            elapsed=time.monotonic() - started,
        )
        return self._judge(answered, wire)

    def _judge(self, exchange: Exchange, wire: WireResponse) -> Exchange:
        if wire.status_code != 200:
            return _with(exchange, "server_refused", _error_text(wire), signature="not checked")
        if not any(k.lower() == "signature" for k in wire.headers):
            return _with(
                exchange, "unsigned", "answer carries no vendor signature", signature="missing"
            )
        try:
            verify_verdict_response(
                wire, public_key=self.vendor_key, key_id=self.vendor_key_id, now=utc(self.clock)
            )
        except ProtocolError as exc:
            return _with(
                exchange,
                "signature_invalid",
                f"vendor signature invalid: {exc}",
                signature="invalid",
            )
        try:
            verdict = Verdict.decode(wire.body)
        except ProtocolError as exc:
            return _with(
                exchange,
                "malformed_verdict",
                f"signed answer is not a verdict: {exc}",
                signature="valid",
            )
        return replace(exchange, verdict=verdict, signature="valid")


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


def _bounded_read(response: requests.Response, limit: int, deadline: float) -> bytes:
    """The body, decoded, if it is at most ``limit`` bytes and has arrived by ``deadline``.

    The socket timeout bounds each wait, not the whole answer: a vendor (or a man in the
    middle) dribbling a byte every few seconds could hold the phone for hours. ``read1``
    returns what one read from the socket brought, so the deadline is checked between any two
    arrivals and an exchange ends at most one socket timeout after it.
    """
    chunks: list[bytes] = []
    size = 0
    raw = response.raw
    read1 = getattr(raw, "read1", None)  # urllib3 >= 2.3; older ones only bound the size
    pieces = (
        iter(lambda: read1(4096, decode_content=True), b"")
        if read1 is not None
        else response.iter_content(chunk_size=4096)
    )
    for chunk in pieces:
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        if time.monotonic() > deadline:
            raise _TooSlow
        chunks.append(chunk)
    return b"".join(chunks)


def _error_text(wire: WireResponse) -> str:
    try:
        detail = ErrorBody.model_validate_json(wire.body).error
    except ValueError:
        return f"HTTP {wire.status_code} with an unreadable body"
    return f"HTTP {wire.status_code} {detail.code}: {detail.message}"


def _with(exchange: Exchange, code: str, message: str, *, signature: str) -> Exchange:
    return replace(exchange, error_code=code, error=message, signature=signature)


def _failed(
    base: Exchange, started: float, code: str, message: str, *, status: int | None = None
) -> Exchange:
    return replace(
        base, status=status, error_code=code, error=message, elapsed=time.monotonic() - started
    )
