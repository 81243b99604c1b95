"""Several vendor server processes on one port and one data directory.

One process is one interpreter lock, and past a few hundred requests a second the server's own
Python is its limit (docs/decisions/two-server-processes-for-large-fleets.md).
``vendor-server serve --workers N`` and the fleet's embedded server
(``phone_sim.fleet.server.ChildServer``) both run N processes this way:

* Each is spawned (not forked: the parent may already run threads, whose locks a fork would
  copy) and runs an :class:`~server_stub.runtime.embedded.EmbeddedVendorServer`. The first starts
  alone and sets the data directory up (vendor key, admin token, the ``--policy`` to install,
  the store's schema); the others start once it serves, together, and bind its port too
  (``SO_REUSEPORT``, Linux: the kernel spreads new connections over the processes).
* They share the store: SQLite, and a commit's turn is an ``flock`` (``store.lock``), and the
  world's clock (``datadir.clock``): the first opens it, the others read the same file. With
  ``settings.shared`` (``serve``) they also share the policy in force through the data directory
  (``datadir.shared``), so the admin API can change it through any process.
* Parent and processes talk in small dataclass messages over a pipe (:class:`Ready`,
  :class:`Failed`, :class:`Stop`, :class:`Stopped`).
* SIGINT and SIGTERM are the parent's to act on: a Ctrl-C reaches every process of the
  terminal's process group, and the processes ignore it. They stop when the parent says so,
  or when its end of their pipe closes (the parent is gone).
"""

from __future__ import annotations

import importlib
import multiprocessing
import resource
import signal
import socket
import sys
import threading
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from server_stub.datadir.admin_token import AdminToken
from server_stub.datadir.settings import ServerSettings
from server_stub.errors import VendorServerError
from server_stub.runtime.heap import settle_heap
from server_stub.runtime.usage import peak_rss_kib

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
#: how often a process checks that its server still serves
_HEARTBEAT = 0.5
_PARENT_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class ServerProcessError(VendorServerError):
    """A server process did not start, or its parent asked for something it cannot do."""


def can_share_port() -> bool:
    """Whether several server processes can listen on one port here (SO_REUSEPORT)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


@dataclass(frozen=True)
class Started:
    """What the first process says once it serves (``serve`` prints it)."""

    url: str
    vendor_public_key: Path
    policy_version: str
    admin_token: AdminToken
    #: a port only this process listens on (``own_ports``), beside the shared one
    own_url: str | None = None


@dataclass(frozen=True)
class ProcessUsage:
    """What one process used, as it said when it stopped."""

    peak_rss_kib: int
    cpu_seconds: float
    requests: int


@dataclass(frozen=True)
class Ended:
    """A process that ended without being asked to."""

    number: int  # 1 is the first
    pid: int | None
    exit_code: int | None


@dataclass(frozen=True)
class _Job:
    settings: ServerSettings
    number: int
    reuse_port: bool
    app_hook: str | None
    log_level: str
    own_port: bool = False


@dataclass(frozen=True)
class Ready:
    """A process to its parent: it serves."""

    started: Started


@dataclass(frozen=True)
class Failed:
    """A process to its parent: it could not start, and why."""

    reason: str


@dataclass(frozen=True)
class Stop:
    """The parent to a process: stop serving."""


@dataclass(frozen=True)
class Stopped:
    """A process to its parent, last: what it used."""

    usage: ProcessUsage


def _apply_hook(server: Any, hook: str | None) -> None:
    """``module:function`` called with the server (its ``app`` and ``context``) before it serves
    (the benchmarks' no-op route); the app is this process's own."""
    if hook is not None:
        module, _, name = hook.partition(":")
        install: Callable[[Any], object] = getattr(importlib.import_module(module), name)
        install(server)


def _serve(conn: Connection, job: _Job) -> None:
    """One server process: serve until told to stop (or until the parent is gone)."""
    # Imported here: the parent, which only watches, needs neither uvicorn nor FastAPI.
    from server_stub.runtime.embedded import EmbeddedVendorServer
    from server_stub.runtime.sockets import bind_socket

    for signum in _PARENT_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _PARENT_SIGNALS)  # see ServerProcesses._spawn
    settings = job.settings
    try:
        server = EmbeddedVendorServer(
            settings, log_level=job.log_level, reuse_port=job.reuse_port, own_port=job.own_port
        )
    except Exception as exc:  # reported by the parent
        conn.send(Failed(_reason(exc)))
        return
    try:
        _apply_hook(server, job.app_hook)
        if job.number == 1 and job.reuse_port and settings.port != 0:
            # With SO_REUSEPORT the port could be shared with another server of this user
            # already on it, which would then get half of the connections: refuse a port in
            # use, as one process does.
            bind_socket(settings.host, settings.port).close()
        server.start()
    except OSError as exc:
        server.stop()
        conn.send(Failed(f"cannot listen on {settings.host}:{settings.port}: {exc}"))
        return
    except Exception as exc:
        server.stop()
        conn.send(Failed(_reason(exc)))
        return
    # Serving is all this process does from here on
    # (docs/decisions/collector-settled-in-serving-processes.md).
    settle_heap()
    version = server.context.policy.version
    conn.send(
        Ready(
            Started(
                server.url,
                server.vendor_public_key_path,
                version,
                server.admin_token,
                own_url=server.own_url,
            )
        )
    )
    serving = True
    try:
        while True:
            if not conn.poll(_HEARTBEAT):
                serving = server.running
                if serving:
                    continue
                break
            with suppress(EOFError):  # EOF: the parent is gone
                conn.recv()  # Stop, the only message a parent sends
            break
    finally:
        served = server.requests_served
        server.stop()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with suppress(OSError):
            conn.send(
                Stopped(ProcessUsage(peak_rss_kib(), usage.ru_utime + usage.ru_stime, served))
            )
    if not serving:
        print(f"vendor-server: process {job.number}: its server stopped serving", file=sys.stderr)
        sys.exit(1)


def _reason(exc: Exception) -> str:
    return str(exc) if isinstance(exc, VendorServerError) else f"{type(exc).__name__}: {exc}"


class ServerProcesses:
    """``workers`` server processes sharing one port and ``settings.data_dir``.

    Args:
        settings: what every process serves (``port`` is the first one's; 0 picks one).
        workers: how many processes; more than one needs :func:`can_share_port`.
        app_hook: ``module:function`` to call with each process's app before it serves.
        log_level: uvicorn's, in each process.
        own_ports: each process also listens on a port of its own (``own_urls``), for a client
            that spreads its connections over the processes itself (the fleet) rather than
            leave it to the kernel's hash of each connection.

    Raises:
        ServerProcessError: a process did not start (the message is its reason, e.g. the
            port in use or a policy that does not validate); none is left running.
    """

    def __init__(
        self,
        settings: ServerSettings,
        workers: int,
        *,
        app_hook: str | None = None,
        log_level: str = "warning",
        own_ports: bool = False,
    ) -> None:
        if workers < 1:
            raise ServerProcessError(f"at least one server process is needed, not {workers}")
        if workers > 1 and not can_share_port():
            raise ServerProcessError("several server processes need SO_REUSEPORT (Linux)")
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[tuple[BaseProcess, Connection]] = []

        def job(settings: ServerSettings, number: int) -> _Job:
            return _Job(settings, number, workers > 1, app_hook, log_level, own_ports)

        try:
            self.started = self._ready(1, self._spawn(job(settings, 1)))
            # The others find the data directory set up, and must not install the policy
            # again (an operator may have replaced it through the first by now), nor start
            # the clock again: they read the one the first opened.
            port = urlsplit(self.started.url).port or 0
            rest = replace(settings, port=port, policy_path=None, clock_attach=True)
            others = [self._spawn(job(rest, n)) for n in range(2, workers + 1)]
            every = [self.started] + [
                self._ready(number, worker) for number, worker in enumerate(others, 2)
            ]
        except BaseException:
            self.stop()
            raise
        self.url = self.started.url
        #: each process's own port, first to last (``own_ports``; else empty)
        self.own_urls = tuple(s.own_url for s in every if s.own_url is not None)

    def _spawn(self, job: _Job) -> tuple[BaseProcess, Connection]:
        conn, child = self._context.Pipe()
        process = self._context.Process(
            target=_serve, args=(child, job), name=f"vendor-server-{job.number}", daemon=True
        )
        # SIGINT and SIGTERM wait (blocked, not lost) while the process is made: it inherits
        # the mask and unblocks them once it ignores them, so a Ctrl-C at that moment cannot
        # end it with a KeyboardInterrupt's traceback.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _PARENT_SIGNALS)
        try:
            process.start()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        child.close()
        self._workers.append((process, conn))
        return process, conn

    @staticmethod
    def _ready(number: int, worker: tuple[BaseProcess, Connection]) -> Started:
        process, conn = worker
        try:
            if not conn.poll(START_TIMEOUT):
                raise ServerProcessError(
                    f"server process {number} did not start within {START_TIMEOUT:g} s"
                )
            reply = conn.recv()
        except EOFError:
            process.join(5)
            raise ServerProcessError(
                f"server process {number} ended while starting (exit code {process.exitcode})"
            ) from None
        if isinstance(reply, Failed):
            raise ServerProcessError(reply.reason)
        if not isinstance(reply, Ready):
            raise ServerProcessError(f"server process {number} said {reply!r} while starting")
        return reply.started

    @property
    def pids(self) -> list[int]:
        """The processes, first to last (the benchmarks read their CPU time)."""
        return [process.pid for process, _ in self._workers if process.pid is not None]

    def wait(self, stop: threading.Event, *, poll: float = 0.2) -> Ended | None:
        """Serve until ``stop`` is set (None), or until a process ends by itself (which)."""
        processes = {
            process.sentinel: (n, process) for n, (process, _) in enumerate(self._workers, 1)
        }
        while not stop.is_set():
            for sentinel in wait(list(processes), timeout=poll):
                assert isinstance(sentinel, int)  # what it was given
                number, process = processes[sentinel]
                process.join()
                return Ended(number, process.pid, process.exitcode)
        return None

    def stop(self) -> list[ProcessUsage | None]:
        """Stop every process, all at once; what each used (None: it did not say)."""
        workers, self._workers = self._workers, []
        for _, conn in workers:
            with suppress(OSError):
                conn.send(Stop())
        return [_collect(process, conn) for process, conn in workers]


def _collect(process: BaseProcess, conn: Connection) -> ProcessUsage | None:
    usage = None
    try:
        while conn.poll(STOP_TIMEOUT):
            reply = conn.recv()
            if isinstance(reply, Stopped):
                usage = reply.usage
                break
    except (OSError, EOFError):
        pass
    process.join(STOP_TIMEOUT)
    if process.is_alive():
        process.kill()
        process.join()
    conn.close()
    return usage if isinstance(usage, ProcessUsage) else None
