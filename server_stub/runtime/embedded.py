"""The vendor server in this process, in the background: for the phone's ``make run``, worlds and
tests.

Uvicorn serves a socket bound here, before the server starts, so the port (ephemeral when
``settings.port`` is 0) is known at once and a port already in use fails in the caller's thread.
Every embedded server of a process is served by one event loop on one thread
(``runtime.host``): starting one takes about a millisecond and stopping one does not wait for
uvicorn's polling (``docs/decisions/one-loop-for-embedded-servers.md``).
"""

from __future__ import annotations

import socket
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG

from phone_sim.protocol.clock import WorldClock
from server_stub.api.app import open_context, shared_app
from server_stub.datadir.admin_token import AdminToken
from server_stub.datadir.clock import SharedClock
from server_stub.datadir.settings import ServerSettings
from server_stub.engine.context import ServerContext
from server_stub.errors import SettingsError, VendorServerError
from server_stub.runtime.connections import (
    MAX_HEADER_BYTES,
    ConnectionLimits,
    HttpParser,
    connection_cap,
    guarded_protocol,
)
from server_stub.runtime.host import HostedServer, ServerHost

# bind_socket re-exported: bench/legacy.py puts the socket of before issue #6 in its place.
from server_stub.runtime.sockets import bind_socket as bind_socket
from server_stub.runtime.sockets import socket_url
from server_stub.store.db import Store

START_TIMEOUT = 10.0
STOP_TIMEOUT = 3.0


_logging_configured = False


def uvicorn_logging() -> dict[str, Any] | None:
    """uvicorn's default logging configuration the first time in this process, then None."""
    global _logging_configured
    if _logging_configured:
        return None
    _logging_configured = True
    return LOGGING_CONFIG


class EmbeddedServerError(VendorServerError):
    """The embedded server could not start or stop in time."""


class EmbeddedVendorServer:
    """A real uvicorn server with the vendor app, served by this process's server host.

    ``http_parser``: uvicorn's, "auto" (httptools when installed, else h11) unless a test asks.
    ``app``: the app to serve (default: this process's one, ``shared_app``); each request finds
    this server's world in its state (``server_stub.api.app``). ``store``: an open store to
    serve (the caller closes it; by default the server opens and closes its own); ``sock``: a
    socket bound already (``runtime.sockets``), which the server then serves and closes.
    Connections are guarded (deadline, cap, JSON framing errors): ``runtime.connections``.

    Usage::

        with EmbeddedVendorServer(settings, clock=FixedClock(1630497600)) as server:
            requests.get(server.url + "/v1/health")
    """

    def __init__(
        self,
        settings: ServerSettings,
        clock: WorldClock | None = None,
        *,
        log_level: str = "warning",
        reuse_port: bool = False,
        http_parser: HttpParser = "auto",
        app: FastAPI | None = None,
        store: Store | None = None,
        sock: socket.socket | None = None,
        own_port: bool = False,
    ) -> None:
        self.settings = settings
        #: also listen on a port of this server's own (see :attr:`own_url`)
        self.own_port = own_port
        self.log_level = log_level
        self.reuse_port = reuse_port
        self.http_parser = http_parser
        self._owns_store = store is None
        self.store = Store(settings.db_path) if store is None else store
        try:
            #: the world this server answers for (keys, token, clock, policy, store)
            self.context: ServerContext = open_context(settings, clock=clock, store=self.store)
        except BaseException:
            if self._owns_store:
                self.store.close()
            if sock is not None:
                sock.close()
            raise
        #: the app it serves: this process's one (server_stub.api.app.shared_app)
        self.app: FastAPI = app if app is not None else shared_app()
        #: the world's time as this server keeps it (its data directory's, unless one was given)
        self.clock: WorldClock = self.context.clock
        self._owns_clock = clock is None
        self._server: HostedServer | None = None
        self._serving: Future[None] | None = None
        #: bound (and perhaps listening) already: ``runtime.sockets``
        self._bound = sock
        self._socket: socket.socket | None = None
        self._own_socket: socket.socket | None = None
        self._stopped = False
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The base URL, e.g. ``http://127.0.0.1:54321`` (available once started)."""
        if self._url is None:
            raise EmbeddedServerError("the server has not been started")
        return self._url

    @property
    def own_url(self) -> str | None:
        """With ``own_port``, while it serves: the URL of a port only this server listens on,
        beside the one it may share with other processes (a fleet spreads its connections over
        the processes' own ports: docs/decisions/fleet-connections-spread-over-server-processes.md).
        """
        return None if self._own_socket is None else socket_url(self._own_socket)

    @property
    def requests_served(self) -> int:
        """HTTP requests this server has answered so far (uvicorn's own count)."""
        return 0 if self._server is None else self._server.server_state.total_requests

    @property
    def running(self) -> bool:
        """Whether the server still serves (it was started and has not ended)."""
        return self._serving is not None and not self._serving.done()

    @property
    def admin_token(self) -> AdminToken:
        """The operator's bearer token (``created`` is True on the start that made it)."""
        return self.context.admin_token

    @property
    def vendor_public_key_path(self) -> Path:
        """The PEM public key that phones pin."""
        return self.settings.vendor_public_key_path

    def start(self) -> Self:
        """Serve until :meth:`stop`; a stopped server cannot be started again."""
        if self._serving is not None:
            return self
        if self._stopped:
            raise EmbeddedServerError("a stopped server cannot be started again")
        sock = self._bound or bind_socket(
            self.settings.host, self.settings.port, reuse_port=self.reuse_port
        )
        limits = ConnectionLimits(
            request_timeout=self.settings.request_timeout,
            max_connections=connection_cap(self.settings.max_connections),
        )
        config = uvicorn.Config(
            self.app,
            log_level=self.log_level,
            # uvicorn's logging set-up (dictConfig, 3 ms) once per process; every later server
            # finds its loggers configured and sets only their level.
            log_config=uvicorn_logging(),
            # Keep-alive connections must not hold up stop().
            timeout_graceful_shutdown=1,
            # The client is the socket's peer, never what an X-Forwarded-For says: the admin
            # API's loopback rule (api/auth.py) must not be decided by a header.
            proxy_headers=False,
            http=guarded_protocol(limits, self.http_parser),
            h11_max_incomplete_event_size=MAX_HEADER_BYTES,
            ws="none",  # no WebSocket routes: an Upgrade is served as plain HTTP
            # No "server: uvicorn": the vendor does not name its software, and each phone parses
            # one header fewer per answer (docs/decisions/no-server-header.md).
            server_header=False,
        )
        host = ServerHost.shared()
        server = HostedServer(config, host, state={"context": self.context})
        sockets = [sock]
        if self.own_port:
            self._own_socket = bind_socket(self.settings.host, 0)
            sockets.append(self._own_socket)
        self._server, self._socket = server, sock
        self._serving = host.submit(server.serve_hosted(sockets))
        if not server.ready.wait(START_TIMEOUT) or not server.started:
            error = server.startup_error
            self.stop()
            raise EmbeddedServerError("the embedded vendor server did not start") from error
        self._url = socket_url(sock)
        return self

    def stop(self, *, pause_clock: bool = True) -> None:
        """Stop serving and close the store; returns within a few seconds.

        The data directory's clock, if this server opened it, stands still from now until a
        server starts on the directory again, unless ``pause_clock`` is False (a world whose
        server only goes down for a while keeps its time running).
        """
        if self._server is not None and self._serving is not None:
            self._server.exit()
            try:
                self._serving.result(STOP_TIMEOUT)
            except FutureTimeout:
                self._server.exit(force=True)
                with suppress(FutureTimeout, Exception):
                    self._serving.result(STOP_TIMEOUT)
            except Exception:  # noqa: S110 -- a failed start was reported by start()
                pass
        for sock in (self._socket, self._bound, self._own_socket):
            if sock is not None:
                # uvicorn closes the socket it served; this covers a server that never started.
                sock.close()
        self._server, self._serving, self._socket, self._url = None, None, None, None
        self._bound, self._own_socket = None, None
        if not self._stopped:
            self._stopped = True
            if self._owns_store:
                self.store.close()
            if pause_clock and self._owns_clock and isinstance(self.clock, SharedClock):
                # Time stands while no server runs: the next start resumes it here.
                with suppress(OSError, SettingsError):
                    self.clock.pause()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
