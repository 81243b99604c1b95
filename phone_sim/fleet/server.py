"""The vendor server a fleet talks to, and the world's clock the fleet's phones share with it.

* :class:`ChildServer` (the default): the embedded vendor server in child processes, on a
  simulated clock standing at the story's start in its data directory; the fleet moves that
  clock on between check-in rounds, and every process (the server's and the phones') reads the
  same file. Child processes and not a thread: the server's work (verifying chains and
  signatures, SQLite) and the phones' (signing, verifying verdicts) then run on two cores
  instead of sharing one interpreter lock.
* :class:`ThreadServer` (``--in-process``): the same server on a thread of this process.
* :class:`RemoteServer` (``--server URL``): a server elsewhere. With its admin token and a
  simulated clock, the phones take its time through its admin API and it is advanced between
  rounds; otherwise the world keeps real time and check-ins cannot be days apart.

Between two rounds the fleet moves time on by the check-in interval, so a device's ``k``-th
check-in happens ``k`` days after its activation, as in the field, and a delayed lock falls
due when it would.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.protocol.clock import ClockMode, TimeNotControllable, WorldClock
from phone_sim.protocol.keys import load_vendor_public_key
from phone_sim.world.clocks import (
    AdminApiSource,
    ClockSource,
    RealTimeSource,
    SharedFileSource,
    SignedTimeSource,
)
from server_stub.admin.client import AdminClientError, AdminHttpError
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
    #: where the phones post, taken in turn by their workers: each server process's own port
    #: (docs/decisions/fleet-connections-spread-over-server-processes.md), or ``url``
    contact_urls: tuple[str, ...]
    vendor_key: ed25519.Ed25519PublicKey
    #: the world's clock, which the server keeps
    clock: WorldClock
    #: where that time lives, for the phones' processes to read it too
    clock_source: ClockSource
    #: one line for the report
    description: str

    def advance(self, seconds: int) -> bool:
        """Move the world's time on (the server's and the phones'); False if it cannot move."""
        ...

    def close(self) -> ServerUsage | None:
        """Stop (if ours); what the server process used, when it was a child."""
        ...


def _settings(
    data_dir: Path, factory_root: Path, policy: Path | None, start: float
) -> ServerSettings:
    # Speed 0: time stands between the rounds, which move it by the check-in interval.
    return ServerSettings(
        data_dir=data_dir,
        factory_root=factory_root,
        port=0,
        policy_path=policy,
        clock_mode=ClockMode.SIMULATED,
        clock_start=start,
        clock_speed=0,
    )


def _advance(clock: WorldClock, seconds: int) -> bool:
    try:
        clock.advance(seconds)
    except TimeNotControllable:
        return False
    return True


class ChildServer:
    """The embedded vendor server in ``workers`` child processes sharing one port and store.

    One process is one interpreter lock: past a few hundred requests a second the server's
    Python, not its cryptography, is the limit, so large fleets use two
    (docs/decisions/two-server-processes-for-large-fleets.md).
    The processes are :class:`server_stub.runtime.processes.ServerProcesses`, as ``vendor-server serve
    --workers N`` runs them: the first sets the data directory up before the others start; they
    share one port (SO_REUSEPORT, Linux only), and each also listens on one of its own, which the
    fleet's workers take in turn (docs/decisions/fleet-connections-spread-over-server-processes.md).
    They share the data directory's clock, which :meth:`advance` moves for all of them at once.
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
            settings = _settings(data_dir, factory_root, policy, start)
            self._processes = ServerProcesses(
                settings, workers, app_hook=app_hook, own_ports=workers > 1
            )
        except ServerProcessError as exc:
            raise FleetServerError(f"the fleet's vendor server did not start: {exc}") from exc
        self.url = self._processes.url
        self.contact_urls = self._processes.own_urls or (self.url,)
        self.vendor_key = load_vendor_public_key(self._processes.started.vendor_public_key)
        self.clock_source: ClockSource = SharedFileSource(settings.clock_path)
        self.clock = self.clock_source.open()
        where = "a child process" if workers == 1 else f"{workers} child processes"
        self.description = f"embedded, in {where}, at {self.url}"

    @property
    def pids(self) -> list[int]:
        """The server's processes (the benchmarks read their CPU time)."""
        return self._processes.pids

    def advance(self, seconds: int) -> bool:
        return _advance(self.clock, seconds)

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
        settings = _settings(data_dir, factory_root, policy, start)
        try:
            self._server = EmbeddedVendorServer(settings).start()
        except (VendorServerError, OSError) as exc:
            raise FleetServerError(f"the fleet's vendor server did not start: {exc}") from exc
        self.clock_source: ClockSource = SharedFileSource(settings.clock_path)
        self.clock = self.clock_source.open()
        self.url = self._server.url
        self.contact_urls: tuple[str, ...] = (self.url,)
        self.vendor_key = load_vendor_public_key(self._server.vendor_public_key_path)
        self.description = f"embedded, on a thread of this process, at {self.url}"

    def advance(self, seconds: int) -> bool:
        return _advance(self.clock, seconds)

    def close(self) -> ServerUsage | None:
        self._server.stop()
        return None


class RemoteServer:
    """A server elsewhere. With its admin token and a simulated clock, its time is read and
    moved through its admin API; otherwise (no token, or a server that speaks only the
    protocol) the phones sign with its signed time (``POST /v1/time``), which nobody here
    moves, or with real time when it gives none."""

    def __init__(self, url: str, vendor_key: Path, admin_token: str | None) -> None:
        self.url = url.rstrip("/")
        self.contact_urls: tuple[str, ...] = (self.url,)
        try:
            self.vendor_key = load_vendor_public_key(vendor_key)
        except (OSError, ValueError) as exc:
            raise FleetServerError(f"{vendor_key}: cannot read the vendor key: {exc}") from exc
        why = f"the vendor at {self.url} is not ours to move: no admin token (--admin-token-file)"
        chosen: ClockSource | None = None
        if admin_token:
            source = AdminApiSource(self.url, admin_token)
            try:
                self.clock = source.open()
                chosen = source
            except TimeNotControllable as exc:
                why = str(exc)
            except AdminHttpError as exc:
                if not (exc.status == 404 and exc.code == "not_found"):
                    raise FleetServerError(
                        f"{self.url}: cannot read the server's clock: {exc}"
                    ) from exc
                why = f"the vendor at {self.url} has no admin API: its time is not ours to move"
            except AdminClientError as exc:
                raise FleetServerError(
                    f"{self.url}: cannot read the server's clock: {exc}"
                ) from exc
        how = "its simulated clock"
        if chosen is None:
            signed = SignedTimeSource(self.url, vendor_key, why)
            try:
                self.clock = signed.open()
                chosen = signed
                how = f"its signed time ({self.clock.mode.value}, not ours to move)"
            except TimeNotControllable as exc:
                chosen = RealTimeSource(f"{why}; {exc}")
                self.clock = chosen.open()
                how = "real time"
        self.clock_source: ClockSource = chosen
        self.description = f"remote, {self.url}, on {how}"

    def advance(self, seconds: int) -> bool:
        return _advance(self.clock, seconds)

    def close(self) -> ServerUsage | None:
        return None
