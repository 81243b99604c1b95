"""The vendor server a fleet talks to, and the clock the fleet's phones keep with it.

* :class:`ChildServer` (the default): the embedded vendor server in a child process, on a
  simulated clock frozen at the story's start; the fleet moves it on between check-in rounds
  through a pipe. A child process and not a thread: the server's work (verifying chains and
  signatures, SQLite) and the phones' (signing, verifying verdicts) then run on two cores
  instead of sharing one interpreter lock.
* :class:`ThreadServer` (``--in-process``): the same server on a thread of this process,
  sharing the phones' clock object.
* :class:`RemoteServer` (``--server URL``): someone else's server. With its admin token the
  phones take its clock, and a simulated one is advanced between rounds; without it, or on a
  real-time server, the phones use real time and check-ins cannot be days apart.

Between two rounds the fleet moves time on by the check-in interval, so a device's ``k``-th
check-in happens ``k`` days after its activation, as in the field, and a delayed lock falls
due when it would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.protocol.clock import Clock, FixedClock, SimulatedClock, SystemClock
from phone_sim.protocol.keys import load_vendor_public_key
from server_stub.admin.client import AdminClient, AdminClientError
from server_stub.datadir.settings import ServerSettings
from server_stub.errors import VendorServerError
from server_stub.runtime.embedded import EmbeddedVendorServer
from server_stub.runtime.processes import ServerProcessError, ServerProcesses, can_share_port

from .errors import FleetServerError

__all__ = [
    "ChildServer",
    "FleetServer",
    "RemoteServer",
    "ServerUsage",
    "ThreadServer",
    "can_share_port",
]


@dataclass(frozen=True)
class ServerUsage:
    #: summed over the server's processes
    peak_rss_kib: int
    cpu_seconds: float
    #: requests each server process answered, in process order
    requests: tuple[int, ...] = ()


class FleetServer(Protocol):
    url: str
    vendor_key: ed25519.Ed25519PublicKey
    #: the phones' clock, kept in step with the server's
    clock: Clock
    #: one line for the report
    description: str

    def advance(self, seconds: int) -> bool:
        """Move the phones' and the server's time on together; False if time cannot move."""
        ...

    def close(self) -> ServerUsage | None:
        """Stop (if ours); what the server process used, when it was a child."""
        ...


def _settings(data_dir: Path, factory_root: Path, policy: Path | None) -> ServerSettings:
    return ServerSettings(data_dir=data_dir, factory_root=factory_root, port=0, policy_path=policy)


class ChildServer:
    """The embedded vendor server in ``workers`` child processes sharing one port and store.

    One process is one interpreter lock: past a few hundred requests a second the server's
    Python, not its cryptography, is the limit, so large fleets use two
    (docs/decisions/two-server-processes-for-large-fleets.md).
    The processes are :class:`server_stub.runtime.processes.ServerProcesses`, as ``vendor-server serve
    --workers N`` runs them: the first sets the data directory up before the others start, and
    the kernel spreads the fleet's connections over them (SO_REUSEPORT, Linux only). Each has a
    frozen clock, which :meth:`advance` moves in all of them through their pipes.
    """

    def __init__(
        self,
        data_dir: Path,
        factory_root: Path,
        *,
        start: float,
        policy: Path | None = None,
        app_hook: str | None = None,
        workers: int = 1,
    ) -> None:
        try:
            self._processes = ServerProcesses(
                _settings(data_dir, factory_root, policy),
                workers,
                fixed_clock=start,
                app_hook=app_hook,
            )
        except ServerProcessError as exc:
            raise FleetServerError(f"the fleet's vendor server did not start: {exc}") from exc
        self.url = self._processes.url
        self.vendor_key = load_vendor_public_key(self._processes.started.vendor_public_key)
        self.clock: Clock = FixedClock(start)
        where = "a child process" if workers == 1 else f"{workers} child processes"
        self.description = f"embedded, in {where}, at {self.url}"

    @property
    def pids(self) -> list[int]:
        """The server's processes (the benchmarks read their CPU time)."""
        return self._processes.pids

    def advance(self, seconds: int) -> bool:
        self._processes.advance(seconds)
        assert isinstance(self.clock, FixedClock)
        self.clock.advance(seconds)
        return True

    def close(self) -> ServerUsage | None:
        usages = self._processes.stop()
        if not usages or any(u is None for u in usages):
            return None
        return ServerUsage(
            peak_rss_kib=sum(u.peak_rss_kib for u in usages if u),
            cpu_seconds=sum(u.cpu_seconds for u in usages if u),
            requests=tuple(u.requests for u in usages if u),
        )


class ThreadServer:
    def __init__(
        self, data_dir: Path, factory_root: Path, *, start: float, policy: Path | None = None
    ) -> None:
        self.clock: Clock = FixedClock(start)
        try:
            self._server = EmbeddedVendorServer(
                _settings(data_dir, factory_root, policy), clock=self.clock
            ).start()
        except (VendorServerError, OSError) as exc:
            raise FleetServerError(f"the fleet's vendor server did not start: {exc}") from exc
        self.url = self._server.url
        self.vendor_key = load_vendor_public_key(self._server.vendor_public_key_path)
        self.description = f"embedded, on a thread of this process, at {self.url}"

    def advance(self, seconds: int) -> bool:
        assert isinstance(self.clock, FixedClock)
        self.clock.advance(seconds)
        return True

    def close(self) -> ServerUsage | None:
        self._server.stop()
        return None


class RemoteServer:
    def __init__(self, url: str, vendor_key: Path, admin_token: str | None) -> None:
        self.url = url.rstrip("/")
        try:
            self.vendor_key = load_vendor_public_key(vendor_key)
        except (OSError, ValueError) as exc:
            raise FleetServerError(f"{vendor_key}: cannot read the vendor key: {exc}") from exc
        self._admin = AdminClient(self.url, admin_token) if admin_token else None
        self._simulated = False
        self.clock: Clock = SystemClock()
        if self._admin is not None:
            try:
                view = self._admin.clock()
            except AdminClientError as exc:
                raise FleetServerError(
                    f"{self.url}: cannot read the server's clock: {exc}"
                ) from exc
            self._simulated = view.simulated
            if view.simulated:
                self.clock = SimulatedClock(float(view.now), speed=view.speed)
        how = "its simulated clock" if self._simulated else "real time"
        self.description = f"remote, {self.url}, on {how}"

    def advance(self, seconds: int) -> bool:
        if not self._simulated or self._admin is None:
            return False
        try:
            self._admin.advance_clock(seconds)
        except AdminClientError as exc:
            raise FleetServerError(f"{self.url}: cannot advance the server's clock: {exc}") from exc
        assert isinstance(self.clock, SimulatedClock)
        self.clock.advance(seconds)
        return True

    def close(self) -> ServerUsage | None:
        if self._admin is not None:
            self._admin.close()
        return None
