"""The device contacts' own way in: ``POST /v1/activation`` and ``POST /v1/checkin`` past the
layers of the ASGI stack that have nothing to do for them.

Every request crosses FastAPI's and Starlette's stack: telemetry checks, the server-error and
exception middlewares with their send wrappers, FastAPI's body-limit and exit-stack middlewares,
then the router matching the path against every route in turn, and FastAPI's request wrapper
with two more exit stacks. A device route (``routes/contact.py``) uses none of it but the body
limit and the error handlers; under load the rest cost about 80 µs of the server's CPU per
contact (``docs/decisions/contacts-past-the-asgi-stack.md``).

:class:`VendorApp` answers a POST to exactly one of those paths itself, doing what the stack
does for them and nothing else, in the same order:

1. the body, read by the app's own :class:`~server_stub.api.limits.BodyLimitMiddleware` (the
   same code, hence the same 400/413 answers for a bad length, a large or a nested body);
2. the route's own endpoint (the function FastAPI would call);
3. an exception it raises goes to the app's handler for it, looked up as Starlette looks it up
   (``http_errors``); one with no handler but the catch-all is answered by it and raised again,
   as ``ServerErrorMiddleware`` does, so the server logs it as before;
4. the response.

Any other method or path goes through the whole stack, as does everything when the app is built
in a way this shortcut would change (other middleware, Starlette's own body limit, debug, a root
path): :meth:`VendorApp.direct_paths` is then empty.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from server_stub.api.limits import BodyLimitMiddleware, replay
from server_stub.api.routes.contact import DeviceRoute

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Exception], Awaitable[Response]]


class VendorApp(FastAPI):
    """The vendor app: FastAPI, with the device contacts' own way in (module docstring)."""

    #: whether the contact routes skip the stack (tests turn it off to compare the two ways)
    direct: bool = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._direct_routes: list[DeviceRoute] = []
        self._doors: dict[str, _ContactDoor] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and self.direct:
            doors = self._doors
            if doors is None:
                doors = self._doors = self._build_doors()
            door = doors.get(scope["path"])
            if door is not None and not scope.get("root_path"):
                await door(self, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def answer_directly(self, routes: Iterable[BaseRoute]) -> None:
        """Take POSTs to these routes' paths past the stack (device routes only; the routes
        must also be included in the app, with no prefix)."""
        self._direct_routes += [route for route in routes if isinstance(route, DeviceRoute)]

    def direct_paths(self) -> frozenset[str]:
        """The paths answered past the stack: empty when the app's build rules it out."""
        if self._doors is None:
            self._doors = self._build_doors()
        return frozenset(self._doors)

    def _build_doors(self) -> dict[str, _ContactDoor]:
        """Built at the first request, as Starlette builds its stack, once the routes and
        handlers are all in."""
        # Only the body limit stands between Starlette's two exception middlewares.
        middleware = self.user_middleware
        cls: object = middleware[0].cls if middleware else None
        handlers = _Handlers(self.exception_handlers)
        catch_all = handlers.catch_all
        if (
            catch_all is None
            or len(middleware) != 1
            or cls is not BodyLimitMiddleware
            or not handlers.all_async
            or self.debug
            or self.root_path
            or getattr(self, "max_body_size", None) is not None
        ):
            return {}
        options: dict[str, Any] = dict(middleware[0].kwargs)  # the app's own settings
        body_limit = BodyLimitMiddleware(self, *middleware[0].args, **options)
        return {
            route.path: _ContactDoor(route.endpoint, body_limit, handlers.find, catch_all)
            for route in self._direct_routes
            if route.methods == {"POST"} and not route.param_convertors
        }


class _Handlers:
    """The app's exception handlers, split and looked up as Starlette's stack does: the
    catch-all (``Exception`` or 500) is the server-error middleware's, the others the exception
    middleware's, where an ``HTTPException``'s status is looked up before its class."""

    def __init__(self, handlers: Mapping[Any, Any]) -> None:
        self.catch_all: Handler | None = None
        self.all_async = all(inspect.iscoroutinefunction(h) for h in handlers.values())
        self.by_class: dict[type[BaseException], Handler] = {}
        self.by_status: dict[int, Handler] = {}
        for key, handler in handlers.items():
            if key in (500, Exception):
                self.catch_all = handler
            elif isinstance(key, int):
                self.by_status[key] = handler
            else:
                self.by_class[key] = handler

    def find(self, exc: Exception) -> Handler | None:
        """The handler the exception middleware would give ``exc``, if any."""
        if isinstance(exc, HTTPException) and exc.status_code in self.by_status:
            return self.by_status[exc.status_code]
        for cls in type(exc).__mro__:
            if cls in self.by_class:
                return self.by_class[cls]
        return None


class _ContactDoor:
    """One contact route's way in (steps 1-4 of the module docstring)."""

    def __init__(
        self,
        endpoint: Endpoint,
        body_limit: BodyLimitMiddleware,
        handler_for: Callable[[Exception], Handler | None],
        catch_all: Handler,
    ) -> None:
        self.endpoint = endpoint
        self.body_limit = body_limit
        self.handler_for = handler_for
        self.catch_all = catch_all

    async def __call__(self, app: FastAPI, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = app
        try:
            body = await self.body_limit.read(scope, receive, send)
            if body is None:
                return  # refused and answered, or the client has gone
            request = Request(scope, replay(body, receive))
            try:
                response = await self.endpoint(request)
            except Exception as exc:
                handler = self.handler_for(exc)
                if handler is None:
                    raise
                response = await handler(request, exc)
                exc.__traceback__ = None  # as Starlette's: a reused exception keeps no history
        except Exception as exc:
            answer = await self.catch_all(Request(scope), exc)
            await answer(scope, receive, send)
            raise
        # Sent outside the handlers, which the stack would give an error raised before the
        # first message; a Response's first message is the start, and uvicorn's send raises
        # only for messages out of order, so nothing reaches them there.
        await response(scope, receive, send)
