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

import importlib
import multiprocessing
import resource
import signal
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.protocol.clock import Clock, FixedClock, SimulatedClock, SystemClock
from phone_sim.protocol.keys import load_vendor_public_key
from server_stub.admin_client import AdminClient, AdminClientError
from server_stub.embedded import EmbeddedVendorServer
from server_stub.errors import VendorServerError
from server_stub.settings import ServerSettings

from .errors import FleetServerError

START_TIMEOUT = 60.0


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


def _apply_hook(app: Any, hook: str | None) -> None:
    """``module:function`` called with the app before it serves (the benchmarks' no-op route)."""
    if hook is not None:
        module, _, name = hook.partition(":")
        install: Callable[[Any], object] = getattr(importlib.import_module(module), name)
        install(app)


def _child_main(
    conn: Connection,
    data_dir: str,
    factory_root: str,
    policy: str | None,
    start: float,
    hook: str | None,
    port: int,
    reuse_port: bool,
) -> None:
    """One server process: serve until told to stop, moving the clock when told to."""
    # Ctrl-C in the terminal reaches every process of the fleet; stopping this one is the
    # parent's job (it says "stop", or its pipe closes).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    clock = FixedClock(start)
    try:
        settings = _settings(Path(data_dir), Path(factory_root), Path(policy) if policy else None)
        settings = replace(settings, port=port)
        server = EmbeddedVendorServer(settings, clock=clock, reuse_port=reuse_port)
        _apply_hook(server.app, hook)
        server.start()
    except Exception as exc:  # reported to the parent, which names it
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", server.url, str(server.vendor_public_key_path)))
    try:
        while True:
            try:
                message = conn.recv()
            except EOFError:
                break  # the parent is gone
            if message[0] == "advance":
                clock.advance(message[1])
                conn.send(("now", clock.now()))
            else:
                break
    finally:
        served = server.requests_served
        server.stop()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        conn.send(("stopped", usage.ru_maxrss, usage.ru_utime + usage.ru_stime, served))


def can_share_port() -> bool:
    """Whether several server processes can listen on one port here (SO_REUSEPORT)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


class ChildServer:
    """The embedded vendor server in ``workers`` child processes sharing one port and store.

    One process is one interpreter lock: past a few hundred requests a second the server's
    Python, not its cryptography, is the limit (docs/PERFORMANCE.md), so large fleets use two.
    The processes share the data directory: SQLite serialises their commits (WAL, a busy
    timeout), the vendor key and policy are written by the first before the others start, and
    the kernel spreads the fleet's connections over them (SO_REUSEPORT, Linux only).
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
        if workers > 1 and not can_share_port():
            raise FleetServerError("several server processes need SO_REUSEPORT (Linux)")
        # spawn, not fork: the parent may already run threads (a fork would copy their locks).
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[tuple[Any, Connection]] = []
        args = [str(data_dir), str(factory_root), policy and str(policy), start, app_hook]
        try:
            # The first one alone: it makes the vendor key and installs the policy.
            self.url, vendor_key = self._start_one(args, 0, workers > 1)
            port = urlsplit(self.url).port or 0
            for _ in range(1, workers):
                self._start_one(args, port, True)
        except FleetServerError:
            self.close()
            raise
        self.vendor_key = load_vendor_public_key(Path(vendor_key))
        self.clock: Clock = FixedClock(start)
        where = "a child process" if workers == 1 else f"{workers} child processes"
        self.description = f"embedded, in {where}, at {self.url}"

    def _start_one(self, args: list[Any], port: int, reuse_port: bool) -> tuple[str, str]:
        conn, child = self._context.Pipe()
        process = self._context.Process(
            target=_child_main, args=(child, *args, port, reuse_port), daemon=True
        )
        process.start()
        child.close()
        self._workers.append((process, conn))
        try:
            if not conn.poll(START_TIMEOUT):
                process.kill()
                raise FleetServerError("the fleet's vendor server did not start in time")
            reply = conn.recv()
        except EOFError:
            process.join(5)
            raise FleetServerError(
                f"the fleet's vendor server process exited (status {process.exitcode})"
            ) from None
        if reply[0] != "ready":
            process.join(5)
            raise FleetServerError(f"the fleet's vendor server did not start: {reply[1]}")
        return reply[1], reply[2]

    @property
    def pids(self) -> list[int]:
        """The server's processes (the benchmarks read their CPU time)."""
        return [process.pid for process, _ in self._workers]

    def advance(self, seconds: int) -> bool:
        for _, conn in self._workers:
            conn.send(("advance", seconds))
        for _, conn in self._workers:
            conn.recv()
        assert isinstance(self.clock, FixedClock)
        self.clock.advance(seconds)
        return True

    def close(self) -> ServerUsage | None:
        usages = [_stop(process, conn) for process, conn in self._workers]
        self._workers = []
        if not usages or any(u is None for u in usages):
            return None
        return ServerUsage(
            peak_rss_kib=sum(u[0] for u in usages if u),
            cpu_seconds=sum(u[1] for u in usages if u),
            requests=tuple(u[2] for u in usages if u),
        )


def _stop(process: Any, conn: Connection) -> tuple[int, float, int] | None:
    usage = None
    try:
        conn.send(("stop",))
        while conn.poll(10):
            reply = conn.recv()
            if reply[0] == "stopped":
                usage = (int(reply[1]), float(reply[2]), int(reply[3]))
                break
    except (OSError, EOFError):
        pass
    process.join(10)
    if process.is_alive():
        process.kill()
    conn.close()
    return usage


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
