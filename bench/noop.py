"""The benchmarks' yardstick: ``POST /bench/noop`` on the vendor server's own stack.

Installed only in the benchmarks' server process (``ChildServer(app_hook=...)``), never in the
product. It goes through everything an activation goes through before the route's own work
(uvicorn, the body-limit middleware, FastAPI's routing, the thread pool for a sync route) and
then does nothing, so "activation rate / no-op rate" is the share of the stack's capacity that
the activation's own work leaves.
"""

from __future__ import annotations

from fastapi import FastAPI, Response

NOOP_PATH = "/bench/noop"
_ANSWER = b'{"ok":true}'


def install(app: FastAPI) -> None:
    @app.post(NOOP_PATH, include_in_schema=False)
    def noop() -> Response:
        return Response(content=_ANSWER, media_type="application/json")


# --- app hooks that also undo optimisations in the server's process (bench/optimisations.py) --


def install_before_all(app: FastAPI) -> None:
    from . import legacy

    install(app)
    legacy.before_signatures()
    legacy.before_nodelay()
    legacy.before_stack()
    legacy.before_group_commit()
    legacy.before_checkpoints(app)
    legacy.before_chain_cache(app)


def install_before_nodelay(app: FastAPI) -> None:
    from . import legacy

    install(app)
    legacy.before_nodelay()


def install_before_signatures(app: FastAPI) -> None:
    from . import legacy

    install(app)
    legacy.before_signatures()


def install_before_stack(app: FastAPI) -> None:
    from . import legacy

    install(app)
    legacy.before_stack()


def install_before_group_commit(app: FastAPI) -> None:
    from . import legacy

    install(app)
    legacy.before_group_commit()


def install_before_chain_cache(app: FastAPI) -> None:
    from . import legacy

    install(app)
    legacy.before_chain_cache(app)


def install_before_checkpoints(app: FastAPI) -> None:
    from . import legacy

    install(app)
    legacy.before_checkpoints(app)
