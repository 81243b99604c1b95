"""``POST /v1/account`` (version 2): sign in, sign out, or lift the account lock with the password.

The body is an ``AccountRequest``: an activation request (authenticated exactly as one) and the
account action with its password sealed under the device's password key (PROTOCOL.md 13.2).
The password is opened and checked before the store's write lock is taken (scrypt costs
~50 ms); the answer is a verdict decided as at a check-in, in the account's new state.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from phone_sim.protocol.account_request import AccountRequest
from phone_sim.protocol.contact import ACCOUNT_PATH, ContactKind
from phone_sim.protocol.device_secret import DeviceSecret
from phone_sim.protocol.errors import ReplayedNonce
from phone_sim.protocol.messages import ErrorBody, Verdict
from phone_sim.protocol.signing import JSON, WireRequest
from server_stub.api.deps import SIGNED_HEADERS_DOC, authenticate, context_of, signed_request
from server_stub.engine import accounts
from server_stub.engine.contacts import answer_contact
from server_stub.engine.context import ServerContext

router = APIRouter(tags=["device"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Verdict, "description": "Signed verdict (protocol 2), the account changed"},
    400: {
        "model": ErrorBody,
        "description": "Malformed request, or a password that does not open with the device's key",
    },
    401: {"model": ErrorBody, "description": "Signature missing, invalid or stale"},
    403: {
        "model": ErrorBody,
        "description": "Certificate invalid, claims not certified, or a wrong password "
        "(password_wrong: recorded, it counts against the limits)",
    },
    409: {
        "model": ErrorBody,
        "description": "Nonce already used, or the action does not fit the device's account",
    },
    413: {"model": ErrorBody, "description": "Body larger than the protocol allows"},
    429: {
        "model": ErrorBody,
        "description": "Too many wrong passwords for the account or the device (Retry-After)",
    },
}

_RAW_BODY: dict[str, Any] = {
    "parameters": SIGNED_HEADERS_DOC,
    "requestBody": {
        "required": True,
        "content": {JSON: {"schema": {"$ref": "#/components/schemas/AccountRequest"}}},
    },
}


def _account(wire: WireRequest, context: ServerContext) -> Response:
    device = authenticate(wire, context, AccountRequest)
    request = device.request
    assert isinstance(request, AccountRequest) and device.public_key is not None
    # Named before the account is looked at (the contact's transaction reserves it atomically).
    if context.store.nonce_seen(request.nonce, now=context.now()):
        raise ReplayedNonce("this request nonce was already used")
    secret = DeviceSecret.at_vendor(context.agreement, device.public_key, device.claims.serial)
    attempt = accounts.prepare(context, secret, request, now=context.now())
    answer = answer_contact(context, device, ContactKind.ACCOUNT, attempt)
    return Response(content=answer.body, status_code=answer.status_code, headers=answer.headers)


@router.post(
    ACCOUNT_PATH,
    summary="Sign in to an account, sign out, or lift the account lock (protocol 2)",
    description="Same authentication as activation; the password is sealed under the device's "
    "own key. The answer is a verdict in the account's new state.",
    response_class=Response,
    responses=_RESPONSES,
    openapi_extra=_RAW_BODY,
)
async def account(request: Request) -> Response:
    wire = await signed_request(request)
    return await run_in_threadpool(_account, wire, context_of(request))
