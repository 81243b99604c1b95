"""The vendor app and the world it answers for.

:func:`build_app` makes the app (routes, middleware, error answers, documentation) and
:func:`shared_app` is this process's one; :func:`open_context` opens a world's vendor (keys,
token, clock, policy over a store). The two meet in the server that runs them
(``server_stub.runtime.embedded``), which hands each request its world through the ASGI lifespan
state (``docs/decisions/one-app-per-process.md``).
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography.x509 import load_pem_x509_certificate
from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from phone_sim.protocol.account_request import AccountRequest
from phone_sim.protocol.clock import WorldClock
from phone_sim.protocol.identity import FactoryTrust
from phone_sim.protocol.messages import MAX_BODY_BYTES, ActivationRequest, ErrorBody
from phone_sim.protocol.timesync import TimeRequest
from server_stub.admin.policy import policy_at_start
from server_stub.api.direct import VendorApp
from server_stub.api.http_errors import install_error_handlers, route_methods
from server_stub.api.limits import BodyLimitMiddleware
from server_stub.api.routes import (
    account,
    admin,
    admin_accounts,
    admin_fallback,
    admin_system,
    contact,
    health,
    time,
)
from server_stub.datadir.admin_token import load_or_create_admin_token
from server_stub.datadir.settings import ServerSettings
from server_stub.datadir.vendor_key import load_or_create_vendor_key
from server_stub.engine.context import ServerContext
from server_stub.errors import SettingsError
from server_stub.policy.keeper import PolicyKeeper, SharedPolicyKeeper
from server_stub.store.db import Store

#: A policy may list many more territories than a device request has fields.
MAX_POLICY_BYTES = 256 * 1024
#: Answers of the body-limit middleware, which stands in front of every route.
_EVERY_ROUTE_ERRORS = {
    "400": "Malformed request (e.g. a Content-Length that is not a number, JSON nested too deep)",
    "413": "Body larger than the limit",
}


def open_context(
    settings: ServerSettings, *, store: Store, clock: WorldClock | None = None
) -> ServerContext:
    """Open the world a server answers for: its keys, token, clock and policy, over ``store``.

    Args:
        settings: where the state lives and which policy and factory root to use.
        store: the open store (the caller closes it).
        clock: the server's time; by default the world's clock kept in the data directory
            (``settings.open_clock``: resumed where it was, never before the store's history).

    Raises:
        SettingsError: the factory root is missing or unreadable, or the clock file is.
        ClockHistoryError: the start asked for lies before the directory's history.
        PolicyError: the policy file does not validate.
        VendorKeyError, StoreError: the server's own files are unusable.
    """
    trust = _factory_trust(settings)
    vendor_key = load_or_create_vendor_key(
        settings.vendor_key_path, settings.vendor_public_key_path
    )
    admin_token = load_or_create_admin_token(settings.admin_token_path)
    clock = clock or settings.open_clock(store.latest_time())
    policy = policy_at_start(settings, store, clock)
    keeper = SharedPolicyKeeper if settings.shared else PolicyKeeper
    return ServerContext(
        settings=settings,
        clock=clock,
        store=store,
        policies=keeper(policy, settings.installed_policy_path),
        trust=trust,
        vendor_key=vendor_key,
        admin_token=admin_token,
    )


@functools.cache
def shared_app() -> VendorApp:
    """This process's vendor app, built the first time it is asked for.

    Every embedded server of the process serves it, each with its own world: FastAPI (0.165)
    resolves an app's routes on its first request, 20 ms of CPU, which a new app per world paid
    every time (``docs/decisions/one-app-per-process.md``).
    """
    return build_app()


def build_app() -> VendorApp:
    """The vendor server's routes, middleware, error answers and documentation: a new app.

    It holds no world. A request's world (:class:`ServerContext`) is the ASGI lifespan state
    that the server running the app gives it (``request.state.context``; Starlette copies the
    lifespan state into every request's scope): the same app can serve several worlds, each on
    a server of its own.
    """
    app = VendorApp(
        title="phone-sim vendor server",
        version="1",
        summary="Simulated vendor activation service (signed requests, signed verdicts).",
        # No redirect is ever answered, least of all before the admin token is checked:
        # ``/admin/devices/`` is the admin fallback's (401 first), anything else a 404.
        redirect_slashes=False,
    )
    app.add_middleware(
        BodyLimitMiddleware,
        limit=MAX_BODY_BYTES,
        path_limits={"/admin/policy": MAX_POLICY_BYTES},
        text_paths=frozenset({"/admin/policy"}),
    )
    install_error_handlers(app)
    # admin_fallback last: it takes every admin path the others do not.
    routers = (
        health.router,
        contact.router,
        time.router,
        account.router,
        admin.router,
        admin_accounts.router,
        admin_system.router,
    )
    for router in (*routers, admin_fallback.router):
        app.include_router(router)
    # The two device contacts skip the layers of the stack that do nothing for them
    # (docs/decisions/contacts-past-the-asgi-stack.md).
    app.answer_directly(contact.router.routes)
    app.state.route_methods = route_methods(
        [*app.routes, *(route for router in routers for route in router.routes)]
    )
    _document_raw_bodies(app)
    return app


def _factory_trust(settings: ServerSettings) -> FactoryTrust:
    path = settings.factory_root_path
    try:
        return FactoryTrust(load_pem_x509_certificate(path.read_bytes()))
    except FileNotFoundError:
        raise SettingsError(
            f"factory root certificate not found at {path}: create the factory first "
            "(the phone does on its first run; `vendor-server serve --init-factory` also does)"
        ) from None
    except (OSError, ValueError) as exc:
        raise SettingsError(f"{path}: cannot read the factory root certificate: {exc}") from exc


def _document_raw_bodies(app: FastAPI) -> None:
    """Add the schemas of bodies that routes read raw (to check their signed digest), and drop
    the validation answers FastAPI documents but this server never sends."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                routes=app.routes,
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in (ActivationRequest, TimeRequest, AccountRequest):
                raw = model.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(raw.pop("$defs", {}))
                components[model.__name__] = raw
            if "ErrorBody" not in components:  # routes declare it; this keeps the $ref below valid
                error = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
                components.update(error.pop("$defs", {}))
                components["ErrorBody"] = error
            # FastAPI documents its own 422 for invalid input; ours is 400 with ErrorBody
            # (http_errors), which every route declares, so the 422 would be a false promise.
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    responses = operation.setdefault("responses", {})
                    responses.pop("422", None)
                    # BodyLimitMiddleware answers before any route runs, so every operation
                    # can get these two, even one that takes no body.
                    for status, meaning in _EVERY_ROUTE_ERRORS.items():
                        responses.setdefault(
                            status,
                            {
                                "description": meaning,
                                "content": {
                                    "application/json": {
                                        "schema": {"$ref": "#/components/schemas/ErrorBody"}
                                    }
                                },
                            },
                        )
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
