"""``GET /v1/health``: liveness plus what a phone or operator may want to compare."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from server_stub.api.deps import Context

router = APIRouter()


class Health(BaseModel):
    status: str
    policy_version: str
    vendor_key_id: str


@router.get("/v1/health", response_model=Health, summary="Server health")
def health(context: Context) -> Health:
    return Health(
        status="ok", policy_version=context.policy.version, vendor_key_id=context.vendor_key.key_id
    )
