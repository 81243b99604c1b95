"""Every error leaves the server as ``{"error": {"code": ..., "message": ...}}`` (``ErrorBody``).

Protocol errors carry their own code and status; FastAPI's validation errors, Starlette's
404/405 and anything unexpected are mapped here, so no handler ever sends a traceback.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from phone_sim.protocol.errors import ProtocolError
from phone_sim.protocol.messages import ErrorBody
from server_stub.errors import AdminUnauthorized, ApiError

log = logging.getLogger(__name__)

#: Codes for the HTTP errors Starlette raises itself.
_HTTP_CODES = {
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_payload(code: str, message: str) -> dict[str, dict[str, str]]:
    # Built through the model so a typo here cannot drift from the schema the phone expects.
    return ErrorBody(error=ErrorBody.Detail(code=code, message=message)).model_dump()


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_payload(code, message), status_code=status, headers=headers)


async def _protocol_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProtocolError)
    return error_response(exc.status, exc.code, exc.message)


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
    code = _HTTP_CODES.get(
        exc.status_code, "client_error" if exc.status_code < 500 else "internal_error"
    )
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    return error_response(exc.status_code, code, message, dict(exc.headers or {}))


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
