"""The benchmarks' yardstick: ``POST /bench/noop`` on the vendor server's own stack.

Installed only in the benchmarks' server process (``ChildServer(app_hook=...)``), never in the
product. It goes through the whole stack any route takes (uvicorn, FastAPI's and Starlette's
middleware, the body limit, FastAPI's routing, the thread pool for a sync route) and then does
nothing, so "activation rate / no-op rate" is the share of the stack's capacity that the
activation's own work leaves. The two device contacts take a shorter way past part of that stack
(``server_stub/api/direct.py``), so an activation no longer pays all the no-op pays
(docs/decisions/contacts-past-the-asgi-stack.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Response

if TYPE_CHECKING:
    from server_stub.runtime.embedded import EmbeddedVendorServer

NOOP_PATH = "/bench/noop"
_ANSWER = b'{"ok":true}'


def install(server: EmbeddedVendorServer) -> None:
    @server.app.post(NOOP_PATH, include_in_schema=False)
    def noop() -> Response:
        return Response(content=_ANSWER, media_type="application/json")


# --- app hooks that also undo optimisations in the server's process (bench/optimisations.py) --


def install_before_all(server: EmbeddedVendorServer) -> None:
    from . import legacy

    install(server)
    legacy.before_signatures()
    legacy.before_nodelay()
    legacy.before_stack()
    legacy.before_group_commit()
    legacy.before_checkpoints(server)
    legacy.before_chain_cache(server)


def install_before_nodelay(server: EmbeddedVendorServer) -> None:
    from . import legacy

    install(server)
    legacy.before_nodelay()


def install_before_signatures(server: EmbeddedVendorServer) -> None:
    from . import legacy

    install(server)
    legacy.before_signatures()


def install_before_stack(server: EmbeddedVendorServer) -> None:
    from . import legacy

    install(server)
    legacy.before_stack()


def install_before_group_commit(server: EmbeddedVendorServer) -> None:
    from . import legacy

    install(server)
    legacy.before_group_commit()


def install_before_chain_cache(server: EmbeddedVendorServer) -> None:
    from . import legacy

    install(server)
    legacy.before_chain_cache(server)


def install_before_checkpoints(server: EmbeddedVendorServer) -> None:
    from . import legacy

    install(server)
    legacy.before_checkpoints(server)
