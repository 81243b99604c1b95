"""``POST /v1/activation``: decide a device's activation and answer with a signed verdict."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from phone_sim.protocol.messages import ErrorBody, Verdict
from phone_sim.protocol.signing import JSON, WireResponse, sign_verdict_response

from ..context import ServerContext
from ..deps import AuthenticatedDevice, Context, Device
from ..policy import Decision, decide
from ..store import ActivationRecord

ACTIVATION_PATH = "/v1/activation"

router = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Malformed request (JSON, types, fields, values)"},
    401: {"model": ErrorBody, "description": "Signature missing, invalid or stale"},
    403: {
        "model": ErrorBody,
        "description": "Certificate invalid or device claims do not match it",
    },
    409: {"model": ErrorBody, "description": "Nonce already used"},
    413: {"model": ErrorBody, "description": "Body larger than the protocol allows"},
}


@router.post(
    ACTIVATION_PATH,
    summary="Activate a device",
    response_class=Response,
    responses={
        200: {"model": Verdict, "description": "Signed verdict (RFC 9421, vendor key)"},
        **_ERRORS,
    },
    # The body is read raw (its digest is signed), so its schema is declared here for the docs.
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/ActivationRequest"}}},
        }
    },
)
def activate(device: Device, context: Context) -> Response:
    decision = decide(context.policy, device.request)
    now = context.now()
    record = _record(device, decision, now, context)

    def render(sequence: int) -> bytes:
        return _verdict(device, decision, now, sequence, context).encode()

    sequence = context.store.record_activation(record, render)
    body = render(sequence)
    wire = WireResponse(status_code=200, headers={"Content-Type": JSON}, body=body)
    sign_verdict_response(
        wire, key=context.vendor_key.private, key_id=context.vendor_key.key_id, created=now
    )
    return Response(content=body, status_code=200, headers=wire.headers)


def _verdict(
    device: AuthenticatedDevice, decision: Decision, now: int, sequence: int, context: ServerContext
) -> Verdict:
    return Verdict(
        device_serial=device.claims.serial,
        imei=device.claims.imeis[0],
        status=decision.status,
        reason=decision.reason.value,
        message=decision.message,
        nonce=device.request.nonce,
        issued_at=now,
        expires_at=now + int(context.settings.verdict_ttl.total_seconds()),
        sequence=sequence,
        policy_version=decision.policy_version,
    )


def _record(
    device: AuthenticatedDevice, decision: Decision, now: int, context: ServerContext
) -> ActivationRecord:
    claims = device.claims
    return ActivationRecord(
        serial=claims.serial,
        imeis=claims.imeis,
        model=claims.model,
        market=claims.market,
        sims=[sim.model_dump(mode="json") for sim in device.request.sims],
        nonce=device.request.nonce,
        at=now,
        nonce_expires_at=now + int(context.settings.nonce_ttl.total_seconds()),
        status=decision.status.value,
        reason=decision.reason.value,
        policy_version=decision.policy_version,
        decision=decision.to_json(),
    )
