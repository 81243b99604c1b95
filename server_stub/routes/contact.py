"""``POST /v1/activation`` and ``POST /v1/checkin``: decide and answer with a signed verdict.

Both take the same signed body and give the same kind of answer; the engine decides both the
same way (the activation territory sticks, so a re-activation after a factory reset gets the
decision the first one got). The path is part of what the device signs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from phone_sim.protocol.messages import ErrorBody, Verdict
from phone_sim.protocol.signing import JSON

from ..contacts import ContactKind, answer_contact
from ..deps import Context, Device

ACTIVATION_PATH = "/v1/activation"
CHECKIN_PATH = "/v1/checkin"

router = APIRouter(tags=["device"])

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
    "requestBody": {
        "required": True,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/ActivationRequest"}}},
    }
}


def _answer(device: Device, context: Context, kind: ContactKind) -> Response:
    wire = answer_contact(context, device, kind)
    return Response(content=wire.body, status_code=wire.status_code, headers=wire.headers)


@router.post(
    ACTIVATION_PATH,
    summary="Activate a device",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra=_RAW_BODY,
)
def activate(device: Device, context: Context) -> Response:
    return _answer(device, context, "activation")


@router.post(
    CHECKIN_PATH,
    summary="Check in: hear a delayed lock, a hold or a release",
    description="Same body and answer as activation. A device the server has never seen is "
    "decided as an activation.",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra=_RAW_BODY,
)
def checkin(device: Device, context: Context) -> Response:
    return _answer(device, context, "checkin")
