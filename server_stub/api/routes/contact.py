"""``POST /v1/activation`` and ``POST /v1/checkin``: decide and answer with a signed verdict.

Both take the same signed body and give the same kind of answer; the engine decides both the
same way (the activation territory sticks, so a re-activation after a factory reset gets the
decision the first one got). The path is part of what the device signs.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from phone_sim.protocol.contact import ACTIVATION_PATH, CHECKIN_PATH, ContactKind
from phone_sim.protocol.messages import ErrorBody, Verdict
from phone_sim.protocol.signing import JSON
from server_stub.api.deps import SIGNED_HEADERS_DOC, authenticate, context_of, signed_request
from server_stub.engine.contacts import AuthenticatedDevice, answer_contact
from server_stub.engine.context import ServerContext


class DeviceRoute(APIRoute):
    """A device route: documented as FastAPI documents it, called as a plain Starlette endpoint.

    Its endpoint takes the request and returns the response, so FastAPI's request handler has
    nothing to do for it but its work for every request regardless (solve the dependencies,
    parse the query string and the cookies, check the response): about 90 µs of an activation's
    server CPU under load (docs/decisions/activation-cpu-accounting.md). Errors still reach the
    app's handlers (``http_errors``), as from any route.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        endpoint: Callable[[Request], Coroutine[Any, Any, Response]] = self.endpoint
        return endpoint


router = APIRouter(tags=["device"], route_class=DeviceRoute)

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Verdict, "description": "Signed verdict (RFC 9421, vendor key)"},
    400: {"model": ErrorBody, "description": "Malformed request (JSON, types, fields, values)"},
    401: {"model": ErrorBody, "description": "Signature missing, invalid or stale"},
    403: {
        "model": ErrorBody,
        "description": "Certificate invalid or device claims do not match it",
    },
    409: {"model": ErrorBody, "description": "Nonce already used"},
    413: {"model": ErrorBody, "description": "Body larger than the protocol allows"},
}

# The body is read raw (its digest is signed), so its schema is declared here for the docs.
_RAW_BODY: dict[str, Any] = {
    "parameters": SIGNED_HEADERS_DOC,
    "requestBody": {
        "required": True,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/ActivationRequest"}}},
    },
}


def _contact(device: AuthenticatedDevice, context: ServerContext, kind: ContactKind) -> Response:
    answer = answer_contact(context, device, kind)
    return Response(content=answer.body, status_code=answer.status_code, headers=answer.headers)


async def _answer(request: Request, kind: ContactKind) -> Response:
    wire = await signed_request(request)
    context = context_of(request)
    # Authentication, decision, storage and signing are blocking work (CPU, then a durable
    # commit), run on the store's contact lane: one thread for every contact, whose batches
    # commit together (docs/decisions/contacts-in-one-lane.md). Authentication writes nothing:
    # the lane runs it before it opens the batch
    # (docs/decisions/contact-checks-outside-the-batch.md).
    answer: Response = await context.store.lane.answer(
        _contact, context, kind, check=functools.partial(authenticate, wire, context)
    )
    return answer


@router.post(
    ACTIVATION_PATH,
    summary="Activate a device",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra=_RAW_BODY,
)
async def activate(request: Request) -> Response:
    return await _answer(request, ContactKind.ACTIVATION)


@router.post(
    CHECKIN_PATH,
    summary="Check in: hear a delayed lock, a hold or a release",
    description="Same body and answer as activation. A device the server has never seen is "
    "decided as an activation.",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra=_RAW_BODY,
)
async def checkin(request: Request) -> Response:
    return await _answer(request, ContactKind.CHECKIN)
