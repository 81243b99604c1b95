"""``POST /v1/time``: the world's time, signed and bound to the asker's nonce (PROTOCOL.md 2.1).

The vendor holds the world's time (``docs/decisions/one-world-one-time.md``); a phone sets its
clock from this answer, which it accepts only with a valid vendor signature over its own nonce.
Anyone may ask: the request is not signed, and nothing is recorded.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from phone_sim.protocol.errors import PayloadTooLarge
from phone_sim.protocol.messages import MAX_BODY_BYTES, ErrorBody
from phone_sim.protocol.signing import JSON, WireResponse, sign_verdict_response
from phone_sim.protocol.timesync import TIME_PATH, TimeAnswer, TimeRequest
from server_stub.api.deps import Context
from server_stub.engine.context import ServerContext

router = APIRouter(tags=["device"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": TimeAnswer, "description": "The vendor's time, signed (RFC 9421, vendor key)"},
    400: {"model": ErrorBody, "description": "Malformed request"},
    413: {"model": ErrorBody, "description": "Body larger than the protocol allows"},
}
_RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/TimeRequest"}}},
    }
}


def answer_time(context: ServerContext, request: TimeRequest) -> WireResponse:
    """The signed 200 answer to ``request``: the world's time now, bound to its nonce."""
    now = context.now()
    clock = context.clock
    answer = TimeAnswer(nonce=request.nonce, now=now, mode=clock.mode, speed=round(clock.speed))
    wire = WireResponse(status_code=200, headers={"Content-Type": JSON}, body=answer.encode())
    key = context.vendor_key
    sign_verdict_response(wire, key=key.private, key_id=key.key_id, created=now)
    return wire


@router.post(
    TIME_PATH,
    summary="The vendor's time, signed",
    description="Body: a fresh nonce. Answer: the world's time bound to that nonce, signed "
    "like a verdict. A phone sets its clock only from such an answer.",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra=_RAW_BODY,
)
async def time(request: Request, context: Context) -> Response:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:  # the middleware already refused it; belt and braces
        raise PayloadTooLarge(f"body is {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    answer = answer_time(context, TimeRequest.decode(body))
    return Response(content=answer.body, status_code=answer.status_code, headers=answer.headers)
