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
from contextlib import suppress
from pathlib import Path

from phone_sim.protocol.clock import RealTime, TimeNotControllable, WorldClock
from phone_sim.world.clocks import AdminClock
from server_stub.admin.client import AdminClient, AdminClientError, AdminHttpError
from server_stub.datadir.clock import SharedClock
from server_stub.datadir.settings import ServerSettings
from server_stub.errors import SettingsError
from server_stub.runtime.embedded import EmbeddedVendorServer

__all__ = ["AttachedVendor", "EmbeddedVendor", "RemoteVendor", "Vendor"]


class Vendor:
    """What a world needs of its vendor (both kinds below)."""

    #: where phones send their requests
    url: str
    #: the vendor public key (PEM file) that phones pin in their firmware
    vendor_key: Path
    #: the world's clock, which this vendor keeps
    clock: WorldClock
    #: the operator's side (None: no admin token, or a server without the admin API)
    admin: AdminClient | None
    #: why there is no operator's side (None: there is one)
    no_admin: str | None = None
    #: the vendor's clock is this process's own object (phones may read it directly)
    local_clock: bool = False
    #: one line for headers and status lines
    description: str

    def close(self) -> None:
        """Stop what this world started and let go of connections."""


class EmbeddedVendor(Vendor):
    """Our server on a thread of this process, over ``settings.data_dir``.

    It can be stopped and started again behind the same data (a scenario's ``server_down`` and
    ``server_up``); the world's clock stays the same object throughout.
    """

    local_clock = True

    def __init__(self, settings: ServerSettings) -> None:
        self.settings = settings
        self.server = EmbeddedVendorServer(settings).start()
        self.clock = self.server.clock
        self.url = self.server.url
        self.vendor_key = self.server.vendor_public_key_path
        self.admin = AdminClient(self.url, self.server.admin_token.value)
        self.description = "embedded vendor server"

    @property
    def running(self) -> bool:
        return self.server.running

    def stop(self) -> None:
        """The server goes down (its data and the world's time go on); phones meet a closed port."""
        self.server.stop(pause_clock=False)

    def start(self) -> str:
        """Serve again from the same data, with the policy and the clock as they are now."""
        # The policy in force is in the data directory now; installing the start-up one
        # again would undo an operator's policy change. The clock is reopened where it stands.
        settings = dataclasses.replace(
            self.settings, policy_path=None, clock_mode=None, clock_start=None, clock_speed=None
        )
        self.server = EmbeddedVendorServer(settings, clock=self.clock).start()
        self.url = self.server.url
        if self.admin is not None:
            self.admin.close()
        self.admin = AdminClient(self.url, self.server.admin_token.value)
        return self.url

    def close(self) -> None:
        if self.admin is not None:
            self.admin.close()
        self.server.stop()
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
        self.admin = AdminClient(self.url, server.admin_token.value)
        self.description = f"vendor server {self.url} (in this process)"

    def close(self) -> None:
        if self.admin is not None:
            self.admin.close()


class RemoteVendor(Vendor):
    """A server at ``url``; phones pin ``vendor_key``; ``admin_token`` makes us its operator."""

    def __init__(self, url: str, vendor_key: Path, admin_token: str | None = None) -> None:
        self.url = url.rstrip("/")
        self.vendor_key = vendor_key
        self.admin = AdminClient(self.url, admin_token) if admin_token else None
        self.no_admin = None if admin_token else "no admin token (--admin-token-file)"
        self.clock = self._clock()
        how = "real time" if isinstance(self.clock, RealTime) else "its simulated time"
        self.description = f"vendor server {self.url}, on {how}"

    def _clock(self) -> WorldClock:
        if self.admin is None:
            return RealTime(
                f"moving time needs the operator's admin token of the vendor at {self.url} "
                "(--admin-token-file, or a --data directory holding vendor/admin.token); "
                "without it the world keeps the vendor's own time"
            )
        try:
            return AdminClock(self.admin)
        except TimeNotControllable as exc:
            return RealTime(str(exc))
        except AdminHttpError as exc:
            if exc.status == 404 and exc.code == "not_found":
                # A server that speaks only the protocol: there is no operator's side to use.
                self.admin.close()
                self.admin = None
                self.no_admin = f"the vendor at {self.url} has no admin API ({exc})"
                return RealTime(f"time cannot move: {self.no_admin}")
            return RealTime(f"the vendor at {self.url} did not open its admin API: {exc}")
        except AdminClientError as exc:
            return RealTime(f"the vendor at {self.url} did not open its admin API: {exc}")

    def close(self) -> None:
        if self.admin is not None:
            self.admin.close()
