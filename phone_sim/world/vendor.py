"""A world's vendor: our server in this process, or a server at a URL.

The vendor holds the world's time (``docs/decisions/one-world-one-time.md``), so the vendor is
what a world's clock comes from:

* :class:`EmbeddedVendor`: our server on a thread of this process, over ``DATA/vendor``; the
  world's clock is its data directory's (:class:`~server_stub.datadir.clock.SharedClock`), which
  this process's phones read directly. Its admin token is at hand: time can move.
* :class:`AttachedVendor`: our server already running in this process (a test's fixture),
  which several worlds may share, and so its clock.
* :class:`RemoteVendor`: a server at a URL (ours in another process or terminal, or anybody's
  that speaks the protocol). With our admin token and a simulated clock, the world's time is
  read and moved through the admin API (:class:`~phone_sim.world.clocks.AdminClock`);
  otherwise the world keeps real time and moving it is refused at once, saying why.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from phone_sim.protocol.clock import RealTime, TimeNotControllable, WorldClock
from server_stub.datadir.admin_token import load_or_create_admin_token
from server_stub.datadir.clock import SharedClock
from server_stub.datadir.settings import ServerSettings
from server_stub.datadir.vendor_key import load_or_create_vendor_key
from server_stub.errors import SettingsError
from server_stub.runtime.sockets import bind_socket, socket_url
from server_stub.store.db import Store

if TYPE_CHECKING:
    from server_stub.admin.client import AdminClient
    from server_stub.runtime.embedded import EmbeddedVendorServer

#: connections a vendor opened to serve later queues until it serves
LISTEN_BACKLOG = 128

__all__ = ["AttachedVendor", "EmbeddedVendor", "RemoteVendor", "Vendor"]


class Vendor:
    """What a world needs of its vendor (both kinds below)."""

    #: where phones send their requests
    url: str
    #: the vendor public key (PEM file) that phones pin in their firmware
    vendor_key: Path
    #: the world's clock, which this vendor keeps
    clock: WorldClock
    #: why there is no operator's side (None: there is one)
    no_admin: str | None = None
    #: the vendor's clock is this process's own object (phones may read it directly)
    local_clock: bool = False
    #: one line for headers and status lines
    description: str

    #: the operator's client, once made (see :attr:`admin`)
    _admin: AdminClient | None = None
    #: the admin token :attr:`admin` makes its client with (None: it is made already, or never)
    _admin_token: str | None = None
    #: one lock for every vendor of the process: a client is made once, rarely contended
    _admin_lock = threading.Lock()

    @property
    def admin(self) -> AdminClient | None:
        """The operator's side (None: no admin token, or a server without the admin API).

        Made at its first use (the vendor console, a scenario's vendor step, moving a remote
        vendor's time), not with the vendor: the admin client and its answer models are no part
        of a first frame (docs/decisions/tui-first-frame-imports.md).
        """
        with self._admin_lock:
            if self._admin is None and self._admin_token is not None:
                from server_stub.admin.client import AdminClient

                self._admin = AdminClient(self.url, self._admin_token)
                self._admin_token = None
            return self._admin

    def _admin_with(self, token: str | None) -> None:
        """The operator's side is this token's, at :attr:`url` (made at its first use); the
        client of an earlier token, if made, is closed."""
        with self._admin_lock:
            if self._admin is not None:
                self._admin.close()
            self._admin, self._admin_token = None, token

    def _close_admin(self) -> None:
        self._admin_with(None)

    def serve(self) -> None:
        """Start serving, for a vendor opened to serve later; every other serves already."""

    def close(self) -> None:
        """Stop what this world started and let go of connections."""


class EmbeddedVendor(Vendor):
    """Our server on a thread of this process, over ``settings.data_dir``.

    It can be stopped and started again behind the same data (a scenario's ``server_down`` and
    ``server_up``); the world's clock stays the same object throughout.

    ``serve=False`` opens the vendor's data (its store, the world's clock, its key and token)
    and takes its port, but leaves the server's stack (FastAPI, uvicorn) unloaded until
    :meth:`serve`: the TUI draws its first frame first, and a phone's request that comes
    sooner waits in the socket's queue (``docs/decisions/tui-first-frame-before-the-server.md``).
    """

    local_clock = True

    def __init__(self, settings: ServerSettings, *, serve: bool = True) -> None:
        self.settings = settings
        self.description = "embedded vendor server"
        self.server: EmbeddedVendorServer | None = None
        #: the store while the world, not a server, holds it (opened to serve later)
        self.store: Store | None = None
        self._socket: socket.socket | None = None
        self._serve_lock = threading.Lock()
        if serve:
            from server_stub.runtime.embedded import EmbeddedVendorServer

            server = self.server = EmbeddedVendorServer(settings).start()
            self.clock = server.clock
            self.url = server.url
            self._admin_with(server.admin_token.value)
        else:
            self._open_to_serve_later()
        self.vendor_key = settings.vendor_public_key_path

    def _open_to_serve_later(self) -> None:
        settings = self.settings
        store = Store(settings.db_path)
        try:
            self.clock = settings.open_clock(store.latest_time())
            load_or_create_vendor_key(settings.vendor_key_path, settings.vendor_public_key_path)
            token = load_or_create_admin_token(settings.admin_token_path)
            sock = bind_socket(settings.host, settings.port)
            sock.listen(LISTEN_BACKLOG)
        except BaseException:
            store.close()
            raise
        self.store, self._socket = store, sock
        self.url = socket_url(sock)
        self._admin_with(token.value)

    def serve(self) -> None:
        """Serve on the port taken at opening (a vendor opened with ``serve=False``)."""
        with self._serve_lock:
            if self.server is not None or self._socket is None:
                return
            from server_stub.runtime.embedded import EmbeddedVendorServer

            sock, self._socket = self._socket, None
            self.server = EmbeddedVendorServer(
                self.settings, clock=self.clock, store=self.store, sock=sock
            ).start()

    @property
    def running(self) -> bool:
        return self.server is not None and self.server.running

    def stop(self) -> None:
        """The server goes down (its data and the world's time go on); phones meet a closed port."""
        if self.server is not None:
            self.server.stop(pause_clock=False)
        self._close_store()

    def start(self) -> str:
        """Serve again from the same data, with the policy and the clock as they are now."""
        from server_stub.runtime.embedded import EmbeddedVendorServer

        # The policy in force is in the data directory now; installing the start-up one
        # again would undo an operator's policy change. The clock is reopened where it stands.
        settings = dataclasses.replace(
            self.settings, policy_path=None, clock_mode=None, clock_start=None, clock_speed=None
        )
        self.server = EmbeddedVendorServer(settings, clock=self.clock).start()
        self.url = self.server.url
        self._admin_with(self.server.admin_token.value)
        return self.url

    def _close_store(self) -> None:
        if self._socket is not None:  # opened to serve later, and never served
            self._socket.close()
            self._socket = None
        if self.store is not None:
            self.store.close()
            self.store = None

    def close(self) -> None:
        self._close_admin()
        with self._serve_lock:
            if self.server is not None:
                self.server.stop()
            self._close_store()
        if isinstance(self.clock, SharedClock):
            # Time stands while no server runs: the world resumes here when it is opened again.
            with suppress(OSError, SettingsError):
                self.clock.pause()


class AttachedVendor(Vendor):
    """Our server already running in this process (a test's ``vendor_server``): several worlds
    may share it, and so its time. Closing the world leaves the server running."""

    local_clock = True

    def __init__(self, server: EmbeddedVendorServer) -> None:
        self.server = server
        self.clock = server.clock
        self.url = server.url
        self.vendor_key = server.vendor_public_key_path
        self._admin_with(server.admin_token.value)
        self.description = f"vendor server {self.url} (in this process)"

    def close(self) -> None:
        self._close_admin()


class RemoteVendor(Vendor):
    """A server at ``url``; phones pin ``vendor_key``; ``admin_token`` makes us its operator."""

    def __init__(self, url: str, vendor_key: Path, admin_token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.vendor_key = vendor_key
        self._admin_with(admin_token or None)
        self.no_admin = None if admin_token else "no admin token (--admin-token-file)"
        self.clock = self._clock()
        how = "real time" if isinstance(self.clock, RealTime) else "its simulated time"
        self.description = f"vendor server {self.url}, on {how}"

    def _clock(self) -> WorldClock:
        from server_stub.admin.client import AdminClientError, AdminHttpError

        from .clocks import AdminClock

        admin = self.admin
        if admin is None:
            return RealTime(
                f"moving time needs the operator's admin token of the vendor at {self.url} "
                "(--admin-token-file, or a --data directory holding vendor/admin.token); "
                "without it the world keeps the vendor's own time"
            )
        try:
            return AdminClock(admin)
        except TimeNotControllable as exc:
            return RealTime(str(exc))
        except AdminHttpError as exc:
            if exc.status == 404 and exc.code == "not_found":
                # A server that speaks only the protocol: there is no operator's side to use.
                self._close_admin()
                self.no_admin = f"the vendor at {self.url} has no admin API ({exc})"
                return RealTime(f"time cannot move: {self.no_admin}")
            return RealTime(f"the vendor at {self.url} did not open its admin API: {exc}")
        except AdminClientError as exc:
            return RealTime(f"the vendor at {self.url} did not open its admin API: {exc}")

    def close(self) -> None:
        self._close_admin()
