"""Every other path under ``/admin``: the operator is authenticated first, then 404 or 405.

Starlette used to answer ``/admin/devices/`` with a redirect to ``/admin/devices``, and a wrong
method or an unknown admin path with 405 or 404, all before any token was looked at. The app now
redirects nothing (``redirect_slashes=False``) and this router, included after every other,
takes what they do not: it depends on :data:`~server_stub.api.auth.Admin` like every admin route,
so the caller hears 401 or 403 first and, only once authenticated, 405 (with every method the
path does take in ``Allow``) or 404. It is left out of the OpenAPI schema.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.exceptions import HTTPException

from server_stub.api.auth import Admin
from server_stub.api.http_errors import FALLBACK_ROUTE, allowed_methods

#: the methods routed here (others meet Starlette's 405, whose Allow is the app's too)
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]

router = APIRouter(prefix="/admin", include_in_schema=False)


def _elsewhere(request: Request, admin: Admin) -> None:
    allowed = allowed_methods(request)
    if allowed:
        raise HTTPException(405, headers={"Allow": ", ".join(allowed)})
    raise HTTPException(404, f"no admin route {request.url.path}")


router.add_api_route("", _elsewhere, methods=METHODS, name=FALLBACK_ROUTE)
router.add_api_route("/{rest:path}", _elsewhere, methods=METHODS, name=FALLBACK_ROUTE)
