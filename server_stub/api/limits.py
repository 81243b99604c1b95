"""Hard limits on request bodies, enforced before any route sees one: size and JSON nesting.

A ``Content-Length`` over the cap is refused before reading anything; a chunked body is counted
as it streams and refused as soon as it passes the cap. The body is buffered (it is at most
``MAX_BODY_BYTES``) and replayed to the app, so handlers can read it with ``request.body()``.
A JSON body that nests deeper than ``MAX_JSON_DEPTH`` is refused with 400 (``nesting``), signed or
not, before any parser recurses into it.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server_stub.api.http_errors import error_payload
from server_stub.api.nesting import MAX_JSON_DEPTH, too_deep

#: After refusing a body, read and discard up to this much more of it, so a client still
#: sending gets our 413 instead of a connection reset; beyond it the connection is dropped.
DRAIN_BYTES = 1024 * 1024


class BodyLimitMiddleware:
    """Refuse bodies over ``limit`` bytes, and bodies nesting deeper than ``MAX_JSON_DEPTH``.

    ``path_limits`` sets another size limit for exact paths; ``text_paths`` are exact paths whose
    bodies are not JSON (the policy's TOML), which the nesting check leaves alone.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        path_limits: dict[str, int] | None = None,
        text_paths: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.default_limit = limit
        self.path_limits = dict(path_limits or {})
        self.text_paths = text_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = await self.read(scope, receive, send)
        if body is not None:
            await self.app(scope, replay(body, receive), send)

    async def read(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The request's whole body, or None once it is refused (answered here) or the client
        has gone. The contact routes' own way in reads theirs through it too
        (``server_stub.api.direct``)."""
        path = scope.get("path", "")
        limit = self.path_limits.get(path, self.default_limit)
        declared = _content_length(scope)
        if declared == -1:
            await _refuse(send, 400, "malformed_request", "Content-Length is not a number")
            return None
        if declared is not None and declared > limit:
            if declared <= DRAIN_BYTES:
                await _drain(receive, DRAIN_BYTES)
            await _refuse(send, 413, "payload_too_large", _too_large(declared, limit))
            return None
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None  # the client went away; there is no one to answer
            chunk = message.get("body", b"")
            size += len(chunk)
            more = bool(message.get("more_body", False))
            if size > limit:
                if more:
                    await _drain(receive, DRAIN_BYTES)
                await _refuse(send, 413, "payload_too_large", _too_large(None, limit))
                return None
            chunks.append(chunk)
        body = b"".join(chunks)
        if path not in self.text_paths and too_deep(body):
            reason = f"the body nests arrays or objects deeper than {MAX_JSON_DEPTH} levels"
            await _refuse(send, 400, "malformed_request", reason)
            return None
        return body


def _too_large(declared: int | None, limit: int) -> str:
    size = "the body" if declared is None else f"the body ({declared} bytes)"
    return f"{size} is larger than the {limit}-byte limit"


def _content_length(scope: Scope) -> int | None:
    """The declared length, None if absent, -1 if unparseable."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            return int(text) if text.isdigit() else -1
    return None


async def _drain(receive: Receive, budget: int) -> None:
    while budget > 0:
        message = await receive()
        if message["type"] != "http.request":
            return
        budget -= len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for an app after the body was read: the body first, then the server's."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # later calls wait for the disconnect, as the server would

    return replay


async def _refuse(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps(error_payload(code, message), separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
