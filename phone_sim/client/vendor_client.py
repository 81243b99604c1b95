"""Talks to the vendor server with ``requests`` (through :mod:`.transport`, loaded at the first
exchange).

Every request is signed (RFC 9421) through a ``requests`` auth object; every answer is read with
a size bound (:mod:`.reading`) by one deadline for the whole exchange (:mod:`.deadline`) and its
vendor signature checked here against the key pinned in the firmware. Redirects are never followed: a
3xx is an error to show, and its body is not read. Failures of any kind come back as an
:class:`Exchange` with an error code, never as an exception, so the UI and scenarios can show
them.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from phone_sim.device.exchange import Exchange
from phone_sim.device.phone import ActivationAttempt, TimeAttempt
from phone_sim.protocol.clock import Clock, utc
from phone_sim.protocol.contact import ContactKind
from phone_sim.protocol.errors import ProtocolError
from phone_sim.protocol.keys import vendor_key_id
from phone_sim.protocol.versions import MAX_BODY_BYTES

if TYPE_CHECKING:
    import requests

    from phone_sim.protocol.messages import Verdict
    from phone_sim.protocol.signing import WireResponse
    from phone_sim.protocol.timesync import TimeAnswer

DEFAULT_TIMEOUT = 10.0
#: the "now" a time answer's signature is checked at: any ``created`` is in its past
ANY_TIME = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


@dataclass
class VendorClient:
    base_url: str
    device_key: ec.EllipticCurvePrivateKey
    device_serial: str
    vendor_key: ed25519.Ed25519PublicKey
    clock: Clock
    timeout: float = DEFAULT_TIMEOUT
    max_response_bytes: int = MAX_BODY_BYTES
    #: the HTTP session (default: one of the client's own, made at its first exchange)
    session: requests.Session | None = None
    _session_ready: bool = field(default=False, init=False, repr=False, compare=False)
    _session_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.vendor_key_id = vendor_key_id(self.vendor_key)

    # The wire models (pydantic), the signature check and the HTTP half all load at a phone's
    # first exchange, not with the client: a first frame has no exchange
    # (docs/decisions/tui-first-frame-imports.md).

    def send(self, attempt: ActivationAttempt) -> Exchange:
        """POST the attempt's request and judge the answer's signature. Never raises for I/O."""
        from phone_sim.protocol.messages import Verdict

        return self._post(attempt.kind, attempt.request.encode(), Verdict, attempt.nonce)

    def ask_time(self, attempt: TimeAttempt) -> Exchange:
        """Ask the vendor's signed time (PROTOCOL.md 2.1). Never raises for I/O."""
        from phone_sim.protocol.timesync import TimeAnswer, TimeRequest

        body = TimeRequest(nonce=attempt.nonce).encode()
        return self._post(ContactKind.TIME, body, TimeAnswer)

    def _post(
        self,
        kind: ContactKind,
        body: bytes,
        answer: type[Verdict] | type[TimeAnswer],
        nonce: str | None = None,
    ) -> Exchange:
        """The exchange over HTTP (signed with ``nonce`` when given), then its answer judged."""
        from . import transport

        with self._session_lock:
            if self.session is None:
                self.session = transport.new_session()
            elif not self._session_ready:
                transport.install_deadline(self.session)
            self._session_ready = True
        auth = None
        if nonce is not None:
            auth = transport.DeviceSignatureAuth(
                self.device_key, self.device_serial, self.clock, nonce
            )
        exchange, wire = transport.post(
            self.session,
            self.base_url + kind.path,
            body,
            kind=kind,
            clock=self.clock,
            timeout=self.timeout,
            max_response_bytes=self.max_response_bytes,
            auth=auth,
        )
        return exchange if wire is None else self._judge(exchange, wire, answer)

    def _judge(
        self,
        exchange: Exchange,
        wire: WireResponse,
        answer: type[Verdict] | type[TimeAnswer] | None = None,
    ) -> Exchange:
        """What ``wire`` says, as an exchange: ``answer`` (default :class:`Verdict`) decoded from
        it if its vendor signature is valid, else the error."""
        from phone_sim.protocol.messages import Verdict
        from phone_sim.protocol.signing import verify_verdict_response

        if answer is None:
            answer = Verdict
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
    from phone_sim.protocol.messages import ErrorBody

    try:
        detail = ErrorBody.model_validate_json(wire.body).error
    except ValueError:
        return None, f"HTTP {wire.status_code} with an unreadable body"
    return detail.code, f"HTTP {wire.status_code} {detail.code}: {detail.message}"


def _with(exchange: Exchange, code: str, message: str, *, signature: str) -> Exchange:
    return replace(exchange, error_code=code, error=message, signature=signature)
