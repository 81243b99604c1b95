"""Run a fleet: every device boots, takes its SIM and activates, then checks in ``K`` times.

Each device is a :class:`~phone_sim.device.phone.Phone` (the model the TUI and the scenarios
drive) without storage, talking through a :class:`~phone_sim.client.vendor_client.VendorClient`
exactly as the TUI's phone does: the fleet signs, sends, verifies and judges verdicts by the
same code. The phones run on ``C`` threads of this process (``rounds.py``) or, with
``processes`` > 1, spread over several (``processes.py``); the rounds are the same either way.

Rounds: round 0 is every device's activation; round ``k`` is one check-in per device, after the
fleet moved the phones' and the server's time on by the check-in interval (24 hours), so the
``k``-th check-in comes ``k`` days after activation and a lock delayed by 3 days reaches an
embargoed phone in round 3. Where time cannot move (a real-time remote server), each check-in
is the user's *Retry* instead, back to back. A device whose activation failed tries again in the
next round, as its user would.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from phone_sim.device.phone import Phone
from phone_sim.protocol.contact import ContactKind

from .identities import Provisioned
from .mix import SimMix
from .processes import PhoneProcesses, spread
from .report import FleetReport, Phase, Progress
from .rounds import Exchanger, FleetDevice, LocalRounds
from .server import FleetServer

DAY = 86_400


@dataclass(frozen=True)
class FleetPlan:
    devices: int
    concurrency: int = 8
    checkins: int = 1
    interval: int = DAY
    timeout: float = 10.0
    seed: int = 0
    #: processes the phones are spread over (``processes.py``); the concurrency is shared out
    processes: int = 1


def run_fleet(
    plan: FleetPlan,
    made: Provisioned,
    mix: SimMix,
    server: FleetServer,
    *,
    provisioning: str = "",
    progress: Progress | None = None,
    log: Callable[[str], object] = lambda line: None,
) -> FleetReport:
    """Activate every device, check each in ``plan.checkins`` times; the report of it all.

    With the phones in several processes, each builds its own share of ``made``'s devices and
    this process keeps none (``made`` need not hold kits: ``FleetFactory.devices(n,
    build=False)``); in one, they are ``made``'s kits, built here if it holds none.
    """
    progress = progress or Progress(enabled=False)
    started = time.monotonic()
    count = made.count
    sims = mix.assign(count, plan.seed)
    rounds: LocalRounds | PhoneProcesses
    if spread(plan.processes, count, plan.concurrency) > 1:
        rounds = PhoneProcesses(
            plan.processes, made.source, sims, server, plan.concurrency, plan.timeout, progress
        )
    else:
        devices = [
            FleetDevice(
                kit,
                sim,
                Phone(kit.identity, kit.certificates, clock=server.clock, exchange_memory=0),
            )
            for kit, sim in zip(made.all_kits(), sims, strict=True)
        ]
        exchange = Exchanger(server.vendor_key, plan.timeout)
        rounds = LocalRounds(devices, exchange, plan.concurrency, progress, server.contact_urls)
    notes: list[str] = []
    try:
        phases = [Phase("activation", count)]
        rounds.run(phases[0], ContactKind.ACTIVATION, False)
        log(phases[0].line())
        for k in range(1, plan.checkins + 1):
            moved = server.advance(plan.interval)
            if not moved and k == 1:
                notes.append("note: the server's time cannot be moved; check-ins were user retries")
            label = f"+{plan.interval * k // 3600} h" if moved else "retry"
            phases.append(Phase(f"check-in {k} ({label})", count))
            rounds.run(phases[-1], ContactKind.CHECKIN, moved)
            log(phases[-1].line())
        finish = rounds.finish()
    finally:
        rounds.close()
    by_sim: dict[str, Counter[str]] = {}
    for label, state in finish.states:
        by_sim.setdefault(label, Counter())[state] += 1
    return FleetReport(
        devices=count,
        concurrency=plan.concurrency,
        processes=rounds.processes if isinstance(rounds, PhoneProcesses) else 1,
        mix=mix.source,
        model=f"{mix.model}, {mix.market}",
        server=server.description,
        provisioning=provisioning,
        phases=phases,
        states=Counter(state for _, state in finish.states),
        by_sim=by_sim,
        seconds=time.monotonic() - started,
        peak_rss_kib=finish.peak_rss_kib,
        cpu_seconds=finish.cpu_seconds,
        notes=notes,
    )
