"""One process's share of a fleet: its phones, the round trip each makes, a round run on threads.

``C`` worker threads share the devices; each keeps one ``requests`` session from round to
round, so its connection to the server stays open from one request to the next, and each takes
the same devices every round (the others' once its own are done): a device's check-in reaches
the server process that verified its certificate chain at activation, which remembers it
(docs/decisions/fleet-devices-keep-their-connection.md). With several server processes each
worker posts to one process's own port, the workers taking them in turn, so every process gets
the same share (docs/decisions/fleet-connections-spread-over-server-processes.md).
``runner.py`` runs the rounds; ``processes.py`` runs this same code in several processes.
"""

from __future__ import annotations

import resource
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import requests
from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.client.transport import new_session
from phone_sim.client.vendor_client import VendorClient
from phone_sim.device.phone import Phone
from phone_sim.device.state import DeviceState
from phone_sim.protocol.contact import ContactKind
from server_stub.runtime.usage import peak_rss_kib

from .kits import DeviceKit
from .mix import SimChoice
from .report import Phase, Progress

#: (seconds, error code or None, verdict reason or None); None: the device sent nothing
Result = tuple[float, str | None, str | None] | None


@dataclass
class FleetDevice:
    kit: DeviceKit
    sim: SimChoice
    phone: Phone


@dataclass(frozen=True)
class Line:
    """One worker's way to the server: its session (a connection kept open) and where it posts."""

    session: requests.Session
    url: str


Step = Callable[[FleetDevice, Line], Result]


@dataclass(frozen=True)
class Finish:
    """What the phones ended as, and what running them cost (summed over their processes)."""

    #: (SIM label, final phone state) per device
    states: list[tuple[str, str]]
    cpu_seconds: float
    peak_rss_kib: int


class Exchanger:
    """One device's round trip: sign, send, verify, judge; timed from the phone's side."""

    def __init__(self, vendor_key: ed25519.Ed25519PublicKey, timeout: float) -> None:
        self.vendor_key = vendor_key
        self.timeout = timeout

    def __call__(self, device: FleetDevice, line: Line) -> Result:
        phone = device.phone
        client = VendorClient(
            base_url=line.url,
            device_key=device.kit.key,
            device_serial=device.kit.identity.serial,
            vendor_key=self.vendor_key,
            clock=phone.clock,
            timeout=self.timeout,
            session=line.session,
        )
        started = time.perf_counter()
        attempt = phone.begin_activation()
        exchange = client.send(attempt)
        outcome = phone.complete_activation(attempt, exchange)
        if not outcome.accepted and phone.request_protocol < attempt.request.protocol:
            # A version 1 vendor refused version 2: the same question in version 1, at once
            # (PROTOCOL.md section 12), timed as part of the one round trip.
            attempt = phone.begin_activation()
            exchange = client.send(attempt)
            outcome = phone.complete_activation(attempt, exchange)
        elapsed = time.perf_counter() - started
        if outcome.verdict is None:
            return elapsed, exchange.error_code or "verdict_rejected", None
        return elapsed, None, outcome.verdict.reason


def _activate(exchange: Exchanger) -> Step:
    def step(device: FleetDevice, line: Line) -> Result:
        phone = device.phone
        phone.power_on()
        phone.finish_boot()
        sim = device.sim.sim()
        if sim is not None:
            phone.insert_sim(1, sim)
        return exchange(device, line)

    return step


def _check_in(exchange: Exchanger, clock_moved: bool) -> Step:
    def step(device: FleetDevice, line: Line) -> Result:
        phone = device.phone
        phone.tick()
        if phone.state in (DeviceState.ACTIVATED, DeviceState.LOCKED):
            if phone.checkin_due() is None and not clock_moved:
                phone.retry()
            if phone.checkin_due() is None:
                return None
        elif phone.state is not DeviceState.SETUP:
            return None
        return exchange(device, line)

    return step


class _Shares:
    """Which device each worker takes next: its own share (every ``C``-th device) in order,
    then, once that is done, the last of the largest share left (the round's tail is shared)."""

    def __init__(self, devices: int, workers: int) -> None:
        self._left = [deque(range(i, devices, workers)) for i in range(workers)]
        self._lock = threading.Lock()

    def next(self, worker: int) -> int | None:
        with self._lock:
            own = self._left[worker]
            if own:
                return own.popleft()
            largest = max(self._left, key=len)
            return largest.pop() if largest else None


def run_round(
    phase: Phase,
    devices: list[FleetDevice],
    step: Step,
    lines: list[Line],
    progress: Progress,
) -> None:
    """Every device through ``step`` once, one worker thread per line; results into ``phase``."""
    lock = threading.Lock()
    shares = _Shares(len(devices), len(lines))
    done = 0

    def worker(index: int) -> None:
        nonlocal done
        line = lines[index]
        while True:
            device = shares.next(index)
            if device is None:
                return
            result = step(devices[device], line)
            with lock:
                done += 1
                if result is not None:
                    phase.record(*result)

    started = time.monotonic()
    threads = [
        threading.Thread(target=worker, args=(i,), name=f"fleet-{i}", daemon=True)
        for i in range(len(lines))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(0.1)
            progress.update(phase, done, started)
    phase.seconds = time.monotonic() - started
    progress.update(phase, done, started, force=True)
    progress.finish()


def step_for(kind: ContactKind, exchange: Exchanger, clock_moved: bool) -> Step:
    return (
        _activate(exchange) if kind is ContactKind.ACTIVATION else _check_in(exchange, clock_moved)
    )


class LocalRounds:
    """The phones in this process, all on the world's clock (the parent moves it)."""

    def __init__(
        self,
        devices: list[FleetDevice],
        exchange: Exchanger,
        concurrency: int,
        progress: Progress,
        urls: Sequence[str],
    ) -> None:
        self.devices, self.exchange, self.progress = devices, exchange, progress
        #: one per worker thread (the phone's own kind of session), kept from round to round;
        #: the server's URLs (one per process, or its one) taken in turn
        self.lines = [Line(new_session(), urls[i % len(urls)]) for i in range(max(1, concurrency))]

    def run(self, phase: Phase, kind: ContactKind, moved: bool) -> None:
        step = step_for(kind, self.exchange, moved)
        run_round(phase, self.devices, step, self.lines, self.progress)

    def finish(self) -> Finish:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return Finish(
            states=[(d.sim.label, d.phone.state.value) for d in self.devices],
            cpu_seconds=usage.ru_utime + usage.ru_stime,
            peak_rss_kib=peak_rss_kib(),
        )

    def close(self) -> None:
        for line in self.lines:
            line.session.close()
