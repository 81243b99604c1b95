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
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol

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
    peak_rss_kib: int
    cpu_seconds: float


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
) -> None:
    """The child process: serve until told to stop, moving the clock when told to."""
    clock = FixedClock(start)
    try:
        settings = _settings(Path(data_dir), Path(factory_root), Path(policy) if policy else None)
        server = EmbeddedVendorServer(settings, clock=clock)
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
        server.stop()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        conn.send(("stopped", usage.ru_maxrss, usage.ru_utime + usage.ru_stime))


class ChildServer:
    def __init__(
        self,
        data_dir: Path,
        factory_root: Path,
        *,
        start: float,
        policy: Path | None = None,
        app_hook: str | None = None,
    ) -> None:
        # spawn, not fork: the parent may already run threads (a fork would copy their locks).
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        args = (child, str(data_dir), str(factory_root), policy and str(policy), start, app_hook)
        self._process = context.Process(target=_child_main, args=args, daemon=True)
        self._process.start()
        child.close()
        try:
            if not self._conn.poll(START_TIMEOUT):
                self._process.kill()
                raise FleetServerError("the fleet's vendor server did not start in time")
            reply = self._conn.recv()
        except EOFError:
            self._process.join(5)
            raise FleetServerError(
                f"the fleet's vendor server process exited (status {self._process.exitcode})"
            ) from None
        if reply[0] != "ready":
            self._process.join(5)
            raise FleetServerError(f"the fleet's vendor server did not start: {reply[1]}")
        self.url: str = reply[1]
        self.vendor_key = load_vendor_public_key(Path(reply[2]))
        self.clock: Clock = FixedClock(start)
        self.description = f"embedded, in a child process, at {self.url}"

    def advance(self, seconds: int) -> bool:
        self._conn.send(("advance", seconds))
        self._conn.recv()
        assert isinstance(self.clock, FixedClock)
        self.clock.advance(seconds)
        return True

    def close(self) -> ServerUsage | None:
        usage = None
        try:
            self._conn.send(("stop",))
            while self._conn.poll(10):
                reply = self._conn.recv()
                if reply[0] == "stopped":
                    usage = ServerUsage(int(reply[1]), float(reply[2]))
                    break
        except (OSError, EOFError):
            pass
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()
        self._conn.close()
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
