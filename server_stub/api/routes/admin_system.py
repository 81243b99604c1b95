"""``/admin/policy``, ``/admin/audit`` and ``/admin/clock``: the server as a whole."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from phone_sim.protocol.clock import SimulatedClock
from server_stub.admin.models import (
    AdvanceRequest,
    AuditPage,
    ClockView,
    PolicyReplaced,
    PolicyView,
)
from server_stub.admin.policy import replace_policy
from server_stub.admin.views import entry
from server_stub.api.auth import Admin
from server_stub.api.deps import Context
from server_stub.api.routes.admin import errors
from server_stub.engine.context import ServerContext
from server_stub.errors import ClockNotAdjustable, PolicyRejected
from server_stub.store.db import MAX_INTEGER, AuditRecord

router = APIRouter(prefix="/admin", tags=["admin"])

TOML = "application/toml"
#: the latest time the clock may be advanced to: the server reads its clock as a datetime,
#: whose last year is 9999 (an advance past it made every later contact a 500)
LATEST_TIME = 253370764800  # 9999-01-01T00:00:00Z


@router.get("/policy", response_model=PolicyView, summary="The policy in force", responses=errors())
def get_policy(context: Context, admin: Admin) -> PolicyView:
    current = context.policy_in_force
    return PolicyView(version=current.policy.version, source=current.source, text=current.text)


async def _policy_text(request: Request) -> str:
    body = await request.body()
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise PolicyRejected("policy: the body is not UTF-8 text") from None


@router.put(
    "/policy",
    response_model=PolicyReplaced,
    summary="Replace the policy",
    description="The body is the policy TOML (any content type). It is validated first: a bad "
    "policy is refused with the reason (400 policy_invalid) and the old one stays. A different "
    "policy with the version in force is refused (409 policy_version_unchanged).",
    responses=errors(400, 409),
    openapi_extra={
        "requestBody": {"required": True, "content": {TOML: {"schema": {"type": "string"}}}}
    },
)
def put_policy(
    # `admin` first: dependencies run in order, so an unauthenticated body is never read.
    admin: Admin,
    text: Annotated[str, Depends(_policy_text)],
    context: Context,
) -> PolicyReplaced:
    return replace_policy(context, text, admin)


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="Read the audit log",
    description="Without after_id: the newest `limit` entries. With it: the entries after that "
    "id (oldest first), for a live tail. Entries are always oldest first.",
    responses=errors(400),
)
def audit(
    context: Context,
    admin: Admin,
    # Bounded by what the store holds: a larger id was a 500 from SQLite, not an answer.
    after_id: Annotated[int | None, Query(ge=0, le=MAX_INTEGER)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    serial: Annotated[str | None, Query(max_length=32)] = None,
) -> AuditPage:
    rows = context.store.audit(after_id=after_id, limit=limit, serial=serial)
    last = rows[-1].id if rows else (after_id or 0)
    return AuditPage(entries=[entry(r) for r in rows], last_id=last)


def _clock_view(context: ServerContext) -> ClockView:
    clock = context.clock
    simulated = isinstance(clock, SimulatedClock)
    speed = clock.speed if isinstance(clock, SimulatedClock) else 1.0
    return ClockView(now=context.now(), speed=speed, simulated=simulated)


@router.get("/clock", response_model=ClockView, summary="The server's clock", responses=errors())
def clock(context: Context, admin: Admin) -> ClockView:
    return _clock_view(context)


@router.post(
    "/clock/advance",
    response_model=ClockView,
    summary="Advance the simulated clock ('3 days later')",
    description="409 clock_not_adjustable if the server runs on real time. An embedded server "
    "shares its clock with the phone, so both move.",
    responses=errors(400, 409),
)
def advance(body: AdvanceRequest, context: Context, admin: Admin) -> ClockView:
    clock = context.clock
    if not isinstance(clock, SimulatedClock):
        raise ClockNotAdjustable("the server runs on real time; start it with --speed or --start")
    before = context.now()
    if before + body.seconds > LATEST_TIME:
        raise ClockNotAdjustable(
            f"advancing {body.seconds} s would take the clock past 9999-01-01T00:00:00Z, "
            "the latest time the server can keep"
        )
    clock.advance(body.seconds)
    with context.store.transaction() as tx:
        tx.append_audit(
            AuditRecord(
                at=context.now(),
                kind="clock",
                actor=admin.actor,
                rule="operator:advance-clock",
                policy_version=context.policy.version,
                inputs={"seconds": body.seconds},
                detail={"from": before},
            )
        )
    return _clock_view(context)
