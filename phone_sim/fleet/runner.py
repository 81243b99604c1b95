"""Run a fleet: every device boots, takes its SIM and activates, then checks in ``K`` times.

Each device is a :class:`~phone_sim.device.phone.Phone` (the model the TUI and the scenarios
drive) without storage, talking through a :class:`~phone_sim.client.vendor_client.VendorClient`
exactly as the TUI's phone does: the fleet signs, sends, verifies and judges verdicts by the
same code. ``C`` worker threads share the devices; each thread keeps one ``requests`` session,
so its connection to the server stays open from one request to the next.

Rounds: round 0 is every device's activation; round ``k`` is one check-in per device, after the
fleet moved the phones' and the server's time on by the check-in interval (24 hours), so the
``k``-th check-in comes ``k`` days after activation and a lock delayed by 3 days reaches an
embargoed phone in round 3. Where time cannot move (a real-time remote server), each check-in
is the user's *Retry* instead, back to back. A device whose activation failed tries again in the
next round, as its user would.
"""

from __future__ import annotations

import resource
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import requests

from phone_sim.client.vendor_client import VendorClient
from phone_sim.device.phone import Phone
from phone_sim.device.state import DeviceState

from .identities import DeviceKit
from .mix import SimChoice, SimMix
from .report import FleetReport, Phase, Progress
from .server import FleetServer

DAY = 86_400
#: (seconds, error code or None, verdict reason or None); None: the device sent nothing
Result = tuple[float, str | None, str | None] | None


@dataclass
class FleetDevice:
    kit: DeviceKit
    sim: SimChoice
    phone: Phone


@dataclass(frozen=True)
class FleetPlan:
    devices: int
    concurrency: int = 8
    checkins: int = 1
    interval: int = DAY
    timeout: float = 10.0
    seed: int = 0


class _Exchanger:
    """One device's round trip: sign, send, verify, judge; timed from the phone's side."""

    def __init__(self, server: FleetServer, timeout: float) -> None:
        self.server = server
        self.timeout = timeout

    def __call__(self, device: FleetDevice, session: requests.Session) -> Result:
        phone = device.phone
        client = VendorClient(
            base_url=self.server.url,
            device_key=device.kit.key,
            device_serial=device.kit.identity.serial,
            vendor_key=self.server.vendor_key,
            clock=phone.clock,
            timeout=self.timeout,
            session=session,
        )
        started = time.perf_counter()
        attempt = phone.begin_activation()
        exchange = client.send(attempt)
        outcome = phone.complete_activation(attempt, exchange)
        elapsed = time.perf_counter() - started
        phone.exchanges = []  # the inspector's history: nobody looks at it in a fleet
        if outcome.verdict is None:
            return elapsed, exchange.error_code or "verdict_rejected", None
        return elapsed, None, outcome.verdict.reason


def _activate(exchange: _Exchanger) -> Callable[[FleetDevice, requests.Session], Result]:
    def step(device: FleetDevice, session: requests.Session) -> Result:
        phone = device.phone
        phone.power_on()
        phone.finish_boot()
        sim = device.sim.sim()
        if sim is not None:
            phone.insert_sim(1, sim)
        return exchange(device, session)

    return step


def _check_in(
    exchange: _Exchanger, clock_moved: bool
) -> Callable[[FleetDevice, requests.Session], Result]:
    def step(device: FleetDevice, session: requests.Session) -> Result:
        phone = device.phone
        phone.tick()
        if phone.state in (DeviceState.ACTIVATED, DeviceState.LOCKED):
            if phone.checkin_due() is None and not clock_moved:
                phone.retry()
            if phone.checkin_due() is None:
                return None
        elif phone.state is not DeviceState.SETUP:
            return None
        return exchange(device, session)

    return step


def _run_round(
    phase: Phase,
    devices: list[FleetDevice],
    step: Callable[[FleetDevice, requests.Session], Result],
    concurrency: int,
    progress: Progress,
) -> None:
    lock = threading.Lock()
    order = iter(range(len(devices)))
    done = 0

    def worker() -> None:
        nonlocal done
        session = requests.Session()
        session.trust_env = False  # a fleet talks to its server directly, as the phone does
        try:
            while True:
                with lock:
                    index = next(order, None)
                if index is None:
                    return
                result = step(devices[index], session)
                with lock:
                    done += 1
                    if result is not None:
                        phase.record(*result)
        finally:
            session.close()

    started = time.monotonic()
    threads = [
        threading.Thread(target=worker, name=f"fleet-{i}", daemon=True)
        for i in range(max(1, concurrency))
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


def run_fleet(
    plan: FleetPlan,
    kits: list[DeviceKit],
    mix: SimMix,
    server: FleetServer,
    *,
    provisioning: str = "",
    progress: Progress | None = None,
    log: Callable[[str], object] = lambda line: None,
) -> FleetReport:
    """Activate every device, check each in ``plan.checkins`` times; the report of it all."""
    progress = progress or Progress(enabled=False)
    started = time.monotonic()
    devices = [
        FleetDevice(kit, choice, Phone(kit.identity, kit.certificates, clock=server.clock))
        for kit, choice in zip(kits, mix.assign(len(kits), plan.seed), strict=True)
    ]
    exchange = _Exchanger(server, plan.timeout)
    phases = [Phase("activation", len(devices))]
    _run_round(phases[0], devices, _activate(exchange), plan.concurrency, progress)
    log(phases[0].line())
    notes: list[str] = []
    for k in range(1, plan.checkins + 1):
        moved = server.advance(plan.interval)
        if not moved and k == 1:
            notes.append("note: the server's time cannot be moved; check-ins were user retries")
        label = f"+{plan.interval * k // 3600} h" if moved else "retry"
        phases.append(Phase(f"check-in {k} ({label})", len(devices)))
        _run_round(phases[-1], devices, _check_in(exchange, moved), plan.concurrency, progress)
        log(phases[-1].line())
    states = Counter(str(d.phone.state.value) for d in devices)
    by_sim: dict[str, Counter[str]] = {}
    for device in devices:
        by_sim.setdefault(device.sim.label, Counter())[device.phone.state.value] += 1
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return FleetReport(
        devices=len(devices),
        concurrency=plan.concurrency,
        mix=mix.source,
        model=f"{mix.model}, {mix.market}",
        server=server.description,
        provisioning=provisioning,
        phases=phases,
        states=states,
        by_sim=by_sim,
        seconds=time.monotonic() - started,
        peak_rss_kib=usage.ru_maxrss,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        notes=notes,
    )
