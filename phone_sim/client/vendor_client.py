"""Talks to the vendor server with ``requests``.

Every request is signed (RFC 9421) through a ``requests`` auth object; every answer is read with
a size bound (:mod:`.reading`) by one deadline for the whole exchange (:mod:`.deadline`) and its
vendor signature checked against the key pinned in the firmware. Redirects are never followed: a
3xx is an error to show, and its body is not read. Failures of any kind come back as an
:class:`Exchange` with an error code, never as an exception, so the UI and scenarios can show
them.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, replace

import requests
import urllib3
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from phone_sim.device.exchange import Exchange
from phone_sim.device.phone import ActivationAttempt, TimeAttempt
from phone_sim.protocol.clock import Clock, utc
from phone_sim.protocol.contact import ContactKind
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
from phone_sim.protocol.timesync import TimeAnswer, TimeRequest

from . import deadline
from .reading import (
    ACCEPT_ENCODING,
    BadEncoding,
    TooLarge,
    TooSlow,
    Truncated,
    read_bounded,
)

DEFAULT_TIMEOUT = 10.0
#: the "now" a time answer's signature is checked at: any ``created`` is in its past
ANY_TIME = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


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
        deadline.install(self.session)

    def send(self, attempt: ActivationAttempt) -> Exchange:
        """POST the attempt's request and judge the answer's signature. Never raises for I/O."""
        auth = DeviceSignatureAuth(self.device_key, self.device_serial, self.clock, attempt.nonce)
        return self._post(attempt.kind, attempt.request.encode(), Verdict, auth)

    def ask_time(self, attempt: TimeAttempt) -> Exchange:
        """Ask the vendor's signed time (PROTOCOL.md 2.1). Never raises for I/O."""
        body = TimeRequest(nonce=attempt.nonce).encode()
        return self._post(ContactKind.TIME, body, TimeAnswer)

    def _post(
        self,
        kind: ContactKind,
        body: bytes,
        answer: type[Verdict] | type[TimeAnswer],
        auth: requests.auth.AuthBase | None = None,
    ) -> Exchange:
        url = self.base_url + kind.path
        prepared = requests.Request(
            "POST",
            url,
            data=body,
            headers={"Content-Type": JSON, "Accept": JSON, "Accept-Encoding": ACCEPT_ENCODING},
            auth=auth,
        ).prepare()
        sent_at = self.clock.now()
        base = Exchange(
            kind=kind,
            url=url,
            request_headers=dict(prepared.headers),
            request_body=body,
            sent_at=sent_at,
        )
        started = time.monotonic()
        flight = deadline.begin(started + self.timeout)
        try:
            return self._exchange(prepared, base, started, flight, answer)
        finally:
            deadline.end(flight)

    def _exchange(
        self,
        prepared: requests.PreparedRequest,
        base: Exchange,
        started: float,
        flight: deadline.Flight,
        answer: type[Verdict] | type[TimeAnswer],
    ) -> Exchange:
        assert self.session is not None
        late = f"vendor server did not finish its answer in {self.timeout:g} s"
        # Cut by the deadline before its status line and headers were whole.
        no_answer = f"vendor server did not answer in time (nothing whole in {self.timeout:g} s)"
        try:
            # The adapter, not ``Session.send``: even with ``allow_redirects=False`` the session
            # reads a 3xx body whole (and inflates it) to prepare the redirect it will not take.
            adapter = self.session.get_adapter(prepared.url or "")
            response = adapter.send(
                prepared, stream=True, timeout=self.timeout, verify=True, cert=None, proxies={}
            )
        except requests.Timeout as exc:
            return _failed(
                base, started, "timeout", f"vendor server did not answer in time ({exc})"
            )
        except requests.RequestException as exc:
            if flight.expired:
                return _failed(base, started, "timeout", no_answer)
            return _failed(
                base, started, "unreachable", f"vendor server unreachable ({type(exc).__name__})"
            )
        status = response.status_code
        try:
            if flight.expired:  # cut at the deadline mid-headers: the head may be partial
                return _failed(base, started, "timeout", no_answer)
            if response.is_redirect or 300 <= status < 400:
                # Never followed, and its body never read: a redirect is not a verdict.
                where = response.headers.get("Location")
                return _failed(
                    base,
                    started,
                    "redirect_refused",
                    f"vendor server answered HTTP {status}"
                    + (f" to {where[:200]}" if where else "")
                    + "; the phone does not follow redirects",
                    status=status,
                    headers=dict(response.headers),
                )
            raw = read_bounded(
                response.raw,
                response.headers.get("Content-Encoding"),
                limit=self.max_response_bytes,
                deadline=flight.deadline,
            )
        except TooLarge:
            return _failed(
                base,
                started,
                "response_too_large",
                f"answer larger than {self.max_response_bytes} bytes",
                status=status,
            )
        except BadEncoding as exc:
            return _failed(base, started, "encoding_refused", str(exc), status=status)
        except (TooSlow, requests.Timeout, urllib3.exceptions.TimeoutError):
            return _failed(base, started, "timeout", late, status=status)
        except (Truncated, requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            if flight.expired:
                return _failed(base, started, "timeout", late, status=status)
            return _failed(base, started, "truncated", f"answer cut short ({type(exc).__name__})")
        finally:
            response.close()
        wire = WireResponse(status, dict(response.headers), raw)
        answered = replace(
            base,
            status=status,
            response_headers=wire.headers,
            response_body=raw,
            elapsed=time.monotonic() - started,
        )
        return self._judge(answered, wire, answer)

    def _judge(
        self,
        exchange: Exchange,
        wire: WireResponse,
        answer: type[Verdict] | type[TimeAnswer] = Verdict,
    ) -> Exchange:
        if wire.status_code != 200:
            code, text = _error(wire)
            return replace(
                _with(exchange, "server_refused", text, signature="not checked"),
                server_code=code,
            )
        if not any(k.lower() == "signature" for k in wire.headers):
            return _with(
                exchange, "unsigned", "answer carries no vendor signature", signature="missing"
            )
        # A verdict's signature may not come from the phone's future; the vendor's time is
        # asked precisely because the phone's clock may be wrong, so its answer is held to its
        # nonce instead (PROTOCOL.md 2.1).
        now = utc(self.clock) if answer is Verdict else ANY_TIME
        try:
            verify_verdict_response(
                wire, public_key=self.vendor_key, key_id=self.vendor_key_id, now=now
            )
        except ProtocolError as exc:
            return _with(
                exchange,
                "signature_invalid",
                f"vendor signature invalid: {exc}",
                signature="invalid",
            )
        try:
            decoded = answer.decode(wire.body)
        except ProtocolError as exc:
            what = "a verdict" if answer is Verdict else "the vendor's time"
            return _with(
                exchange,
                "malformed_verdict",
                f"signed answer is not {what}: {exc}",
                signature="valid",
            )
        if isinstance(decoded, Verdict):
            return replace(exchange, verdict=decoded, signature="valid")
        return replace(exchange, time=decoded, signature="valid")


def _error(wire: WireResponse) -> tuple[str | None, str]:
    """The server's error code (None if its body is not an error body) and a line to show."""
    try:
        detail = ErrorBody.model_validate_json(wire.body).error
    except ValueError:
        return None, f"HTTP {wire.status_code} with an unreadable body"
    return detail.code, f"HTTP {wire.status_code} {detail.code}: {detail.message}"


def _with(exchange: Exchange, code: str, message: str, *, signature: str) -> Exchange:
    return replace(exchange, error_code=code, error=message, signature=signature)


def _failed(
    base: Exchange,
    started: float,
    code: str,
    message: str,
    *,
    status: int | None = None,
    headers: dict[str, str] | None = None,
) -> Exchange:
    return replace(
        base,
        status=status,
        response_headers=headers or {},
        error_code=code,
        error=message,
        elapsed=time.monotonic() - started,
    )
