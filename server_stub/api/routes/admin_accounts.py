"""``/admin/devices/{ident}/account/clear`` and ``/admin/devices/{ident}/unblock-code``.

The operator's side of version 2 (docs/OPERATOR.md section 7): lift an account lock by
unbinding the device, and make an unblock code for a phone that cannot reach the vendor. Every
route depends on :data:`server_stub.api.auth.Admin`.
"""

from __future__ import annotations

from fastapi import APIRouter

from server_stub.admin.accounts import clear_account_lock, make_unblock_code
from server_stub.admin.models import (
    ClearAccountRequest,
    DeviceView,
    UnblockCode,
    UnblockCodeRequest,
)
from server_stub.api.auth import Admin
from server_stub.api.deps import Context
from server_stub.api.routes.admin import errors

router = APIRouter(prefix="/admin", tags=["admin"])


@router.post(
    "/devices/{ident}/account/clear",
    response_model=DeviceView,
    summary="Unbind a device from its account: its account lock lifts at its next contact",
    responses=errors(400, 404, 409),
)
def clear_account(
    ident: str, body: ClearAccountRequest, context: Context, admin: Admin
) -> DeviceView:
    return clear_account_lock(context, ident, reason=body.reason, operator=admin)


@router.post(
    "/devices/{ident}/unblock-code",
    response_model=UnblockCode,
    summary="An unblock code for the challenge a phone's lock screen shows",
    description="Valid for this device and this challenge only. Also releases the device "
    "(as /release does, when it is held or flagged), so it stays unlocked at its next contact.",
    responses=errors(400, 404, 409),
)
def unblock_code(
    ident: str, body: UnblockCodeRequest, context: Context, admin: Admin
) -> UnblockCode:
    return make_unblock_code(
        context, ident, challenge=body.challenge, reason=body.reason, operator=admin
    )
