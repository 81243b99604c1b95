"""The HTTP half of :class:`~phone_sim.client.vendor_client.VendorClient`: ``requests``,
urllib3 and one deadline for the whole exchange (:mod:`.deadline`).

Loaded at a phone's first exchange, not with its client: a phone that has not spoken yet (the
TUI's first frame) needs none of it (``docs/decisions/tui-first-frame-imports.md``). The client
judges what this brings back (the vendor's signature, the answer's shape).
"""

from __future__ import annotations

import functools
import time
from dataclasses import replace

import requests
import urllib3
from cryptography.hazmat.primitives.asymmetric import ec

from phone_sim.device.exchange import Exchange
from phone_sim.protocol.clock import Clock
from phone_sim.protocol.contact import ContactKind
from phone_sim.protocol.signing import JSON, WireRequest, WireResponse, sign_request

from . import deadline
from .reading import (
    ACCEPT_ENCODING,
    BadEncoding,
    TooLarge,
    TooSlow,
    Truncated,
    read_bounded,
)


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


def new_session() -> requests.Session:
    """A session of the client's own, with the exchange deadline installed."""
    session = requests.Session()
    # The phone talks to its vendor directly; proxy settings of the host are not its own.
    session.trust_env = False
    deadline.install(session)
    return session


def install_deadline(session: requests.Session) -> None:
    """The exchange deadline, installed on a session given to the client."""
    deadline.install(session)


@functools.lru_cache(maxsize=64)
def _template(url: str) -> requests.PreparedRequest:
    """The POST to ``url`` as ``requests`` prepares it, without its body: copied for each."""
    return requests.Request(
        "POST",
        url,
        data=b"",
        headers={"Content-Type": JSON, "Accept": JSON, "Accept-Encoding": ACCEPT_ENCODING},
    ).prepare()


def prepare_post(
    url: str, body: bytes, auth: requests.auth.AuthBase | None
) -> requests.PreparedRequest:
    """``requests.Request("POST", url, data=body, headers=..., auth=auth).prepare()``, from a
    copy of the URL's prepared template: the URL is parsed and checked, the headers and cookies
    set up once per URL, not once per exchange; the body and the signature are each request's
    own, prepared by ``requests`` (docs/decisions/one-prepared-post-per-url.md)."""
    prepared = _template(url).copy()
    prepared.prepare_body(body, None)
    prepared.prepare_auth(auth)
    return prepared


def post(
    session: requests.Session,
    url: str,
    body: bytes,
    *,
    kind: ContactKind,
    clock: Clock,
    timeout: float,
    max_response_bytes: int,
    auth: requests.auth.AuthBase | None = None,
) -> tuple[Exchange, WireResponse | None]:
    """POST ``body`` to ``url`` within one deadline: the exchange, and the answer when there is
    one to judge (None: the exchange failed, and says how)."""
    prepared = prepare_post(url, body, auth)
    sent_at = clock.now()
    base = Exchange(
        kind=kind,
        url=url,
        request_headers=dict(prepared.headers),
        request_body=body,
        sent_at=sent_at,
    )
    started = time.monotonic()
    flight = deadline.begin(started + timeout)
    try:
        return _exchange(session, prepared, base, started, flight, timeout, max_response_bytes)
    finally:
        deadline.end(flight)


def _exchange(
    session: requests.Session,
    prepared: requests.PreparedRequest,
    base: Exchange,
    started: float,
    flight: deadline.Flight,
    timeout: float,
    max_response_bytes: int,
) -> tuple[Exchange, WireResponse | None]:
    late = f"vendor server did not finish its answer in {timeout:g} s"
    # Cut by the deadline before its status line and headers were whole.
    no_answer = f"vendor server did not answer in time (nothing whole in {timeout:g} s)"
    try:
        # The adapter, not ``Session.send``: even with ``allow_redirects=False`` the session
        # reads a 3xx body whole (and inflates it) to prepare the redirect it will not take.
        adapter = session.get_adapter(prepared.url or "")
        response = adapter.send(
            prepared, stream=True, timeout=timeout, verify=True, cert=None, proxies={}
        )
    except requests.Timeout as exc:
        return _failed(
            base, started, "timeout", f"vendor server did not answer in time ({exc})"
        ), None
    except requests.RequestException as exc:
        if flight.expired:
            return _failed(base, started, "timeout", no_answer), None
        return _failed(
            base, started, "unreachable", f"vendor server unreachable ({type(exc).__name__})"
        ), None
    status = response.status_code
    try:
        if flight.expired:  # cut at the deadline mid-headers: the head may be partial
            return _failed(base, started, "timeout", no_answer), None
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
            ), None
        raw = read_bounded(
            response.raw,
            response.headers.get("Content-Encoding"),
            limit=max_response_bytes,
            deadline=flight.deadline,
        )
    except TooLarge:
        return _failed(
            base,
            started,
            "response_too_large",
            f"answer larger than {max_response_bytes} bytes",
            status=status,
        ), None
    except BadEncoding as exc:
        return _failed(base, started, "encoding_refused", str(exc), status=status), None
    except (TooSlow, requests.Timeout, urllib3.exceptions.TimeoutError):
        return _failed(base, started, "timeout", late, status=status), None
    except (Truncated, requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        if flight.expired:
            return _failed(base, started, "timeout", late, status=status), None
        return _failed(base, started, "truncated", f"answer cut short ({type(exc).__name__})"), None
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
    return answered, wire


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
