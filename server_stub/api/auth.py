"""Operator authentication for ``/admin/``: a FastAPI dependency, so admin routes never run
for a request that has not passed it.

1. The client is on loopback, unless the server was started with ``--admin-remote``
   (403 ``admin_forbidden``): the token travels in clear over plain HTTP, so by default it
   never leaves the machine.
2. ``Authorization: Bearer <token>`` carries the server's admin token (401
   ``admin_unauthorized``), compared in constant time.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from server_stub.admin.ops import Operator
from server_stub.api.deps import Context, context_of
from server_stub.errors import AdminForbidden, AdminUnauthorized

# auto_error=False: a missing header is our own 401 JSON error, not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="the token in DATA/admin.token")


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # not an IP address (a test transport's name): not provably local
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def admin_operator(
    request: Request,
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Operator:
    host = request.client.host if request.client is not None else None
    if not context.settings.admin_remote and not is_loopback(host):
        raise AdminForbidden(
            f"the admin API answers loopback clients only (this request came from {host}); "
            "start the server with --admin-remote to allow others"
        )
    if credentials is None:
        raise AdminUnauthorized("missing admin token: send 'Authorization: Bearer <token>'")
    expected = context.admin_token.value.encode()
    if not hmac.compare_digest(credentials.credentials.encode(), expected):
        raise AdminUnauthorized("wrong admin token")
    return Operator(actor=f"admin@{host}")


Admin = Annotated[Operator, Depends(admin_operator)]


async def authenticate_admin(request: Request) -> Operator:
    """:func:`admin_operator` outside FastAPI's dependencies: for the error handlers, which
    authenticate an admin path before saying it has no such route or method."""
    return admin_operator(request, context_of(request), await _bearer(request))


def is_admin_path(path: str) -> bool:
    return path == "/admin" or path.startswith("/admin/")
