"""Every error leaves the server as ``{"error": {"code": ..., "message": ...}}`` (``ErrorBody``).

Protocol errors carry their own code and status; FastAPI's validation errors, Starlette's
404/405 and anything unexpected are mapped here, so no handler ever sends a traceback. A 405's
``Allow`` names every method the path takes (Starlette's names those of one route only, and
``/admin/policy`` is two routes: GET and PUT).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Route

from phone_sim.protocol.errors import ProtocolError
from phone_sim.protocol.messages import ErrorBody
from server_stub.api.auth import authenticate_admin, is_admin_path
from server_stub.errors import AdminUnauthorized, ApiError

log = logging.getLogger(__name__)

#: Codes for the HTTP errors Starlette raises itself.
_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


#: the name of the routes that take every other admin path (``routes/admin_fallback``)
FALLBACK_ROUTE = "admin_fallback"
RouteMethods = list[tuple[re.Pattern[str], frozenset[str]]]


def route_methods(routes: Iterable[BaseRoute]) -> RouteMethods:
    """What :func:`allowed_methods` reads: each route's path pattern and methods (the app
    factory builds it once; the admin fallback is left out)."""
    return [
        (route.path_regex, frozenset(route.methods))
        for route in routes
        if isinstance(route, Route) and route.methods and route.name != FALLBACK_ROUTE
    ]


def allowed_methods(request: Request) -> list[str]:
    """Every method some route takes at this request's path, sorted."""
    table: RouteMethods = request.app.state.route_methods
    path = request.scope["path"]
    return sorted({m for pattern, methods in table if pattern.match(path) for m in methods})


def error_payload(code: str, message: str) -> dict[str, dict[str, str]]:
    # Built through the model so a typo here cannot drift from the schema the phone expects.
    return ErrorBody(error=ErrorBody.Detail(code=code, message=message)).model_dump()


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_payload(code, message), status_code=status, headers=headers)


async def _protocol_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProtocolError)
    # A refusal that says when to come back (too many wrong passwords) says it in Retry-After.
    retry_after = getattr(exc, "retry_after", None)
    headers = None if retry_after is None else {"Retry-After": str(retry_after)}
    return error_response(exc.status, exc.code, exc.message, headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    # RFC 6750: a 401 says which scheme would be accepted.
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AdminUnauthorized) else None
    return error_response(exc.status, exc.code, exc.message, headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err.get('loc', ())) or 'request'}: {err.get('msg', 'invalid')}"
        for err in list(exc.errors())[:5]
    )
    return error_response(400, "malformed_request", problems or "the request is not valid")


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405) and is_admin_path(request.url.path):
        # Nothing about an admin path is said before authentication (a method no route
        # takes, e.g. PROPFIND, is refused here by Starlette, not by the admin fallback).
        try:
            await authenticate_admin(request)
        except ApiError as refused:
            return await _api_error(request, refused)
    code = _HTTP_CODES.get(
        exc.status_code, "client_error" if exc.status_code < 500 else "internal_error"
    )
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return error_response(exc.status_code, code, message, headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The traceback goes to the server log only; the client learns nothing about internals.
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "the vendor server failed; try again later")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProtocolError, _protocol_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
