"""What every benchmark needs: the machine, a vendor server with a no-op route, devices, figures."""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import requests

from phone_sim.client.vendor_client import VendorClient
from phone_sim.device.phone import Phone
from phone_sim.device.sims import Sim, carrier
from phone_sim.fleet.identities import FleetFactory
from phone_sim.fleet.kits import DeviceKit
from phone_sim.fleet.report import percentile
from phone_sim.fleet.server import ChildServer
from phone_sim.protocol.clock import STORY_START, Clock
from phone_sim.protocol.identity import Factory

#: the fleet benchmark's requests in flight (docs/decisions/fleet-benchmark-at-64-in-flight.md)
FLEET_CONCURRENCY = 64
#: where benchmarks keep their factory, identity cache and seeded stores between runs
BENCH_DATA = Path(os.environ.get("PHONE_SIM_BENCH_DATA", ".phone-sim-data/bench"))
NOOP_HOOK = "bench.noop:install"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages / 2**30:.0f} GiB"
    except (ValueError, OSError):
        memory = "? GiB"
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{when}; {os.cpu_count()} cores ({cpu}), {memory}; "
        f"{platform.system()} {platform.release()}; Python {platform.python_version()}; "
        f"load average {os.getloadavg()[0]:.2f}"
    )


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


@dataclass
class Latencies:
    values: list[float]
    seconds: float

    @property
    def rate(self) -> float:
        return len(self.values) / self.seconds if self.seconds else 0.0

    def q(self, quantile: float) -> float:
        return percentile(sorted(self.values), quantile)

    def summary(self) -> str:
        return (
            f"p50 {ms(self.q(0.5))}, p99 {ms(self.q(0.99))} "
            f"({len(self.values)} requests, {self.rate:.0f}/s)"
        )


def kits(n: int, *, seed: int = 1) -> list[DeviceKit]:
    """``n`` devices from the bench's factory, through the fleet's identity cache."""
    maker = FleetFactory(
        BENCH_DATA / "factory", BENCH_DATA, model="Redmi Note 9", market="MI", seed=seed
    )
    return maker.devices(n).kits


class Target(Protocol):
    """A vendor server under a benchmark's load: the fleet's (:class:`ChildServer`) or one
    started as an operator starts it (``bench/serve.py``)."""

    @property
    def url(self) -> str: ...

    @property
    def clock(self) -> Clock:
        """The server's time (frozen), to sign requests at."""
        ...

    @property
    def pids(self) -> list[int]:
        """Its processes, whose CPU time is read."""
        ...


@dataclass
class _Shared:
    """A smoke run's one default server (:func:`sharing_the_default_server`)."""

    open: bool = False
    server: ChildServer | None = None
    scratch: Path | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self) -> ChildServer:
        with self.lock:
            if self.server is None:
                self.server, self.scratch = _start(None, NOOP_HOOK, 1)
            return self.server


_SHARED = _Shared()


@contextmanager
def sharing_the_default_server() -> Iterator[None]:
    """While open, every :func:`bench_server` asked for the default (a fresh store, the no-op
    hook, one process) is the same server, started on first use and stopped on leaving.

    For ``--smoke``, whose figures are only checked to be there: three parts start that same
    server, and a start costs a process and its imports. Full runs give each part its own.
    """
    _SHARED.open = True
    try:
        yield
    finally:
        _SHARED.open = False
        if _SHARED.server is not None:
            _stop(_SHARED.server, _SHARED.scratch)
        _SHARED.server = _SHARED.scratch = None


def _start(store: Path | None, hook: str, workers: int) -> tuple[ChildServer, Path]:
    Factory.open(BENCH_DATA / "factory")
    scratch = Path(tempfile.mkdtemp(prefix="server-", dir=BENCH_DATA))
    try:
        server = ChildServer(
            store or scratch / "vendor",
            BENCH_DATA / "factory" / "root.pem",
            start=STORY_START,
            app_hook=hook,
            workers=workers,
        )
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return server, scratch


def _stop(server: ChildServer, scratch: Path | None) -> None:
    server.close()
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)


def _own(store: Path | None, hook: str, workers: int) -> tuple[ChildServer, Path | None]:
    """A server to stop after use (its scratch directory too), or the shared one (None)."""
    if _SHARED.open and (store, hook, workers) == (None, NOOP_HOOK, 1):
        return _SHARED.get(), None
    return _start(store, hook, workers)


@contextmanager
def bench_server(
    *, store: Path | None = None, hook: str = NOOP_HOOK, workers: int = 1
) -> Iterator[ChildServer]:
    """The vendor server in child processes (frozen simulated clock) with ``POST /bench/noop``.

    ``store`` is a vendor data directory to serve (a seeded store); by default a fresh one.
    ``workers``: server processes sharing the port and the store (as the fleet's).
    """
    server, scratch = _own(store, hook, workers)
    try:
        yield server
    finally:
        if scratch is not None:
            _stop(server, scratch)


@contextmanager
def bench_servers(configs: Sequence[tuple[Path | None, str]]) -> Iterator[list[ChildServer]]:
    """One server per ``(store, hook)`` of ``configs``, started side by side and all kept
    running until the block ends (each is a process and its imports: one after another, they
    take that many times as long)."""
    Factory.open(BENCH_DATA / "factory")  # made here once, not by every start at once
    with ThreadPoolExecutor(len(configs)) as pool:
        starts = [pool.submit(_own, store, hook, 1) for store, hook in configs]
    owned = [f.result() for f in starts if f.exception() is None]
    try:
        for f in starts:
            if (exc := f.exception()) is not None:
                raise exc
        yield [server for server, _ in owned]
    finally:
        with ThreadPoolExecutor(len(owned) or 1) as pool:
            list(pool.map(lambda s: _stop(*s), [(v, d) for v, d in owned if d is not None]))


def new_phone(kit: DeviceKit, server: Target, carrier_name: str = "Telekom") -> Phone:
    phone = Phone(kit.identity, kit.certificates, clock=server.clock, exchange_memory=0)
    phone.power_on()
    phone.finish_boot()
    phone.insert_sim(1, Sim.of(carrier(carrier_name)))
    return phone


def round_trip(
    phone: Phone, kit: DeviceKit, server: ChildServer, session: requests.Session
) -> float:
    """One activation or check-in as the phone sees it: sign, send, verify, judge."""
    client = VendorClient(
        server.url, kit.key, kit.identity.serial, server.vendor_key, server.clock, session=session
    )
    started = time.perf_counter()
    attempt = phone.begin_activation()
    outcome = phone.complete_activation(attempt, client.send(attempt))
    elapsed = time.perf_counter() - started
    if not outcome.accepted:
        raise RuntimeError(f"the benchmark's request failed: {outcome.detail}")
    return elapsed


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def noop_body(kit: DeviceKit, server: ChildServer) -> bytes:
    """An activation body of the real size, for the no-op endpoint to receive."""
    phone = new_phone(kit, server)
    return phone.build_request("n" * 22).encode()


def report(title: str, rows: list[tuple[str, Any]]) -> None:
    print(f"\n== {title}")
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key:<{width}}  {value}")


def per_call_us(
    action: Callable[[], object], n: int, clock: Callable[[], float] = time.perf_counter
) -> float:
    """Microseconds per call of ``action`` over ``n`` calls after one warm-up, by ``clock``."""
    action()
    started = clock()
    for _ in range(n):
        action()
    return (clock() - started) / n * 1e6
