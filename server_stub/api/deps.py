"""FastAPI dependencies: the server context and device authentication.

Device routes take the signed request (:data:`Wire`) and pass it through :func:`authenticate`,
whose :class:`AuthenticatedDevice` exists only for a request that has passed every check below,
in this order (each failure is a named protocol error with its status):

1. the body is at most ``MAX_BODY_BYTES`` (413; enforced while streaming by ``limits``) and
   nests at most ``MAX_JSON_DEPTH`` levels (400; ``limits`` and ``nesting``),
2. ``Signature-Input`` and ``Signature`` are present (401 ``signature_invalid``),
3. the body is a valid ``ActivationRequest`` (400 ``malformed_request``),
4. its certificate chain reaches the factory root at the server's time
   (403 ``certificate_invalid``),
5. the signature is by the certified key, ``keyid`` = certified serial, covers method, target
   URI and body digest, and is fresh by the server clock (401),
6. the signature's nonce is the body's nonce (401),
7. the body's serial, IMEIs, model and market are the certified ones (403),
8. the nonce has not been used (409 ``nonce_replayed``): the contact's transaction reserves it
   first, atomically, so two requests with one nonce cannot both pass.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request

from phone_sim.protocol.errors import (
    CertificateError,
    PayloadTooLarge,
    SignatureError,
)
from phone_sim.protocol.identity import DeviceClaims, chain_from_wire
from phone_sim.protocol.messages import MAX_BODY_BYTES, ActivationRequest
from phone_sim.protocol.signing import WireRequest, verify_request
from server_stub.engine.contacts import AuthenticatedDevice
from server_stub.engine.context import ServerContext


def context_of(request: Request) -> ServerContext:
    """The world this request is for: the lifespan state its server gave the app
    (``server_stub.api.app``)."""
    context = request.state.context
    assert isinstance(context, ServerContext)
    return context


async def get_context(request: Request) -> ServerContext:
    # async: FastAPI runs a sync dependency in the thread pool, a trip there and back for a
    # dictionary lookup (docs/decisions/one-thread-pool-trip-per-device-request.md).
    return context_of(request)


Context = Annotated[ServerContext, Depends(get_context)]


#: The signature's three headers, documented in the OpenAPI schema of the device routes; the
#: routes read them from the request themselves (:func:`signed_request`), not as FastAPI
#: parameters, which pydantic would validate one by one for every request
#: (``docs/decisions/device-routes-read-their-own-headers.md``). Optional, so that absence is
#: our 401, not a 400.
SIGNED_HEADERS_DOC: list[dict[str, Any]] = [
    {
        "name": name,
        "in": "header",
        "required": False,
        "schema": {"anyOf": [{"type": "string"}, {"type": "null"}], "title": name},
    }
    for name in ("Signature-Input", "Signature", "Content-Digest")
]


async def signed_request(request: Request) -> WireRequest:
    """The request as signed: method, URL as addressed (Host header included), headers, body."""
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:  # the middleware already refused it; belt and braces
        raise PayloadTooLarge(f"body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        # Repeated fields are combined as HTTP allows, so a second Signature line cannot hide.
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    if "signature-input" not in headers or "signature" not in headers:
        raise SignatureError("request is not signed: Signature-Input and Signature are required")
    return WireRequest(method=request.method, url=str(request.url), headers=headers, body=body)


_R = TypeVar("_R", bound=ActivationRequest)


def authenticate(
    wire: WireRequest,
    context: ServerContext,
    model: type[_R] = ActivationRequest,  # type: ignore[assignment]
) -> AuthenticatedDevice:
    """Every check of the module docstring, in order; CPU work, so call it off the event loop.

    ``model``: the body's message (an ``AccountRequest`` holds everything an activation
    request does, and is checked the same way).
    """
    body = model.decode(wire.body)
    now = context.utcnow()
    claims, public_key = context.trust.verify_chain(chain_from_wire(body.certificates), now=now)
    # verify_request also refuses a keyid other than the certified serial, so a device cannot
    # sign with its own key while naming another device.
    check = verify_request(wire, public_key=public_key, key_id=claims.serial, now=now)
    if check.nonce != body.nonce:
        raise SignatureError("the signature's nonce is not the body's nonce")
    _match_claims(body, claims)
    # Check 8 is the contact's transaction: it reserves the nonce first, atomically, and a
    # nonce already there ends it (ReplayedNonce) before anything is decided or written.
    return AuthenticatedDevice(request=body, claims=claims, signature=check, public_key=public_key)


def _match_claims(body: ActivationRequest, claims: DeviceClaims) -> None:
    device = body.device
    mismatched = [
        name
        for name, reported, certified in (
            ("serial", device.serial, claims.serial),
            ("imeis", tuple(device.imeis), claims.imeis),
            ("model", device.model, claims.model),
            ("market", device.market, claims.market),
        )
        if reported != certified
    ]
    if mismatched:
        raise CertificateError(
            f"device {', '.join(mismatched)} differ from the factory certificate"
        )
