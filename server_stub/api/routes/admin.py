"""``/admin/devices`` and ``/admin/release``: the operator's view of devices, holds and releases.

Every route depends on :data:`server_stub.api.auth.Admin`, so none runs unauthenticated.
``{ident}`` is a serial or an IMEI.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from phone_sim.protocol.messages import ErrorBody
from server_stub.admin.models import (
    BulkRelease,
    DeviceDetail,
    DeviceList,
    DeviceView,
    FleetPage,
    LockRequest,
    ReleaseRequest,
)
from server_stub.admin.ops import lock_device, release_all, release_device
from server_stub.admin.views import fleet_page, list_devices, show_device
from server_stub.api.auth import Admin
from server_stub.api.deps import Context
from server_stub.errors import BadIdentifier


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the error answers of an admin route (all are ``ErrorBody``)."""
    meaning = {
        400: "Malformed request, or an identifier that is neither a serial nor an IMEI",
        401: "Missing or wrong admin token",
        403: "Not a loopback client (start the server with --admin-remote to allow)",
        404: "No device or pending hold with that serial or IMEI",
        409: "The action does not apply in the current state",
    }
    chosen = (401, 403, *statuses)
    return {s: {"model": ErrorBody, "description": meaning[s]} for s in sorted(set(chosen))}


router = APIRouter(prefix="/admin", tags=["admin"])


@router.get("/devices", response_model=DeviceList, summary="List devices", responses=errors())
def devices(context: Context, admin: Admin) -> DeviceList:
    return list_devices(context)


#: devices a fleet page may name (a console's own phones)
MAX_IDENTS = 64


@router.get(
    "/fleet",
    response_model=FleetPage,
    summary="Part of the device list, for a large fleet",
    description="The devices named by `ident` (a serial or IMEI; repeat it, at most 64; one not "
    "known is left out), then the `limit` pending holds placed last and the `limit` devices met "
    "last, with how many the server knows in all. Its cost does not grow with the fleet, unlike "
    "`GET /admin/devices`'s.",
    responses=errors(400),
)
def fleet(
    context: Context,
    admin: Admin,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ident: Annotated[list[str] | None, Query()] = None,
) -> FleetPage:
    idents = ident or []
    if len(idents) > MAX_IDENTS:
        raise BadIdentifier(f"at most {MAX_IDENTS} ident parameters, not {len(idents)}")
    return fleet_page(context, limit=limit, idents=idents)


@router.get(
    "/devices/{ident}",
    response_model=DeviceDetail,
    summary="Show one device",
    responses=errors(400, 404),
)
def device(ident: str, context: Context, admin: Admin) -> DeviceDetail:
    return show_device(context, ident)


@router.post(
    "/devices/{ident}/lock",
    response_model=DeviceView,
    summary="Hold a device: locked at its next contact",
    description="A serial or IMEI the server has not seen yet is held from its first contact.",
    responses=errors(400),
)
def lock(ident: str, body: LockRequest, context: Context, admin: Admin) -> DeviceView:
    return lock_device(context, ident, reason=body.reason, message=body.message, operator=admin)


@router.post(
    "/devices/{ident}/release",
    response_model=DeviceView,
    summary="Release a device: activated (RELEASED) at its next contact",
    responses=errors(400, 404, 409),
)
def release(ident: str, body: ReleaseRequest, context: Context, admin: Admin) -> DeviceView:
    return release_device(context, ident, reason=body.reason, operator=admin)


@router.post(
    "/release",
    response_model=BulkRelease,
    summary="Release every held, flagged or locked device",
    responses=errors(400),
)
def bulk_release(body: ReleaseRequest, context: Context, admin: Admin) -> BulkRelease:
    return release_all(context, reason=body.reason, operator=admin)
