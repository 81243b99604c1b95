"""What a fleet run measured, how it prints, and the progress line while it runs."""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, TextIO


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0.0 for an empty one)."""
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass
class Phase:
    """One round: every device's activation, or one check-in each."""

    name: str
    devices: int
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    verdicts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def record(self, latency: float, error: str | None, verdict: str | None) -> None:
        self.latencies.append(latency)
        if error is not None:
            self.errors[error] += 1
        if verdict is not None:
            self.verdicts[verdict] += 1

    def quantiles(self) -> dict[str, float]:
        ordered = sorted(self.latencies)
        return {f"p{q}": percentile(ordered, q / 100) * 1000 for q in (50, 95, 99)}

    def line(self) -> str:
        if self.requests == 0:  # a round in which no device was due: nothing to measure
            return f"{self.name}: 0 requests: no device was due for a check-in"
        q = self.quantiles()
        errors = sum(self.errors.values())
        return (
            f"{self.name}: {self.requests} requests in {self.seconds:.1f} s, "
            f"{self.rate:.0f} req/s; latency p50 {q['p50']:.1f} ms, p95 {q['p95']:.1f} ms, "
            f"p99 {q['p99']:.1f} ms; {errors or 'no'} error{'' if errors == 1 else 's'}"
        )


@dataclass
class FleetReport:
    devices: int
    concurrency: int
    mix: str
    model: str
    server: str
    provisioning: str
    phases: list[Phase]
    #: final phone state -> devices
    states: Counter[str]
    #: SIM label -> final phone state -> devices
    by_sim: dict[str, Counter[str]]
    seconds: float
    peak_rss_kib: int
    cpu_seconds: float = 0.0
    server_peak_rss_kib: int | None = None
    server_cpu_seconds: float | None = None
    #: requests each of the embedded server's processes answered
    server_requests: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: processes the phones ran in (their RSS and CPU are summed)
    processes: int = 1
    #: the command after start-up: identities, the server's start and stop, the rounds (``seconds``)
    command_seconds: float | None = None

    @property
    def requests(self) -> int:
        return sum(p.requests for p in self.phases)

    @property
    def errors(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for phase in self.phases:
            total.update(phase.errors)
        return total

    @property
    def request_seconds(self) -> float:
        return sum(p.seconds for p in self.phases)

    def overall(self) -> Phase:
        merged = Phase("all requests", self.devices, seconds=self.request_seconds)
        for phase in self.phases:
            merged.latencies += phase.latencies
            merged.errors.update(phase.errors)
            merged.verdicts.update(phase.verdicts)
        return merged

    def lines(self) -> list[str]:
        out = [
            f"fleet: {self.devices} devices ({self.model}), concurrency {self.concurrency}"
            f"{f' over {self.processes} processes' if self.processes > 1 else ''}, "
            f"{len(self.phases) - 1} check-in round(s); SIM mix {self.mix}",
            f"server: {self.server}",
            f"provisioning: {self.provisioning}",
        ]
        out += [phase.line() for phase in self.phases]
        out.append(self.overall().line())
        errors = self.errors
        if errors:
            out.append("errors: " + ", ".join(f"{k} {v}" for k, v in sorted(errors.items())))
        out.append("devices: " + _counts(self.states))
        for label, states in self.by_sim.items():
            out.append(f"  {label}: {sum(states.values())}: {_counts(states)}")
        verdicts = self.overall().verdicts
        out.append("verdicts: " + (", ".join(f"{k} {v}" for k, v in verdicts.items()) or "none"))
        both = " (all its processes)" if self.processes > 1 else ""
        rss = f"peak RSS: fleet {self.peak_rss_kib / 1024:.0f} MiB{both}"
        if self.server_peak_rss_kib is not None:
            rss += f", server {self.server_peak_rss_kib / 1024:.0f} MiB"
        out.append(rss)
        if len(self.server_requests) > 1:
            shares = " + ".join(f"{n:,}" for n in self.server_requests)
            out.append(f"server processes: {len(self.server_requests)}, requests {shares}")
        cpu = f"CPU: fleet {self.cpu_seconds:.1f} s"
        if self.server_cpu_seconds is not None:
            cpu += f", server {self.server_cpu_seconds:.1f} s"
        per = self.cpu_seconds + (self.server_cpu_seconds or 0.0)
        out.append(f"{cpu} ({per / max(1, self.requests) * 1000:.2f} ms per request)")
        wall = f"wall time: {self.seconds:.1f} s running the phones"
        if self.command_seconds is not None:
            wall += f", {self.command_seconds:.1f} s for the command after start-up"
        out.append(wall)
        out += self.notes
        return out

    def to_json(self) -> dict[str, Any]:
        overall = self.overall()
        return {
            "devices": self.devices,
            "concurrency": self.concurrency,
            "processes": self.processes,
            "seconds": self.seconds,
            "command_seconds": self.command_seconds,
            "request_seconds": self.request_seconds,
            "requests": self.requests,
            "requests_per_second": overall.rate,
            "latency_ms": overall.quantiles(),
            "errors": dict(self.errors),
            "states": dict(self.states),
            "by_sim": {k: dict(v) for k, v in self.by_sim.items()},
            "verdicts": dict(overall.verdicts),
            "phases": [
                {
                    "name": p.name,
                    "requests": p.requests,
                    "seconds": p.seconds,
                    "requests_per_second": p.rate,
                    "latency_ms": p.quantiles(),
                    "errors": dict(p.errors),
                }
                for p in self.phases
            ],
            "peak_rss_kib": self.peak_rss_kib,
            "server_peak_rss_kib": self.server_peak_rss_kib,
            "cpu_seconds": self.cpu_seconds,
            "server_cpu_seconds": self.server_cpu_seconds,
            "server_requests": self.server_requests,
            "provisioning": self.provisioning,
            "server": self.server,
        }


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{n} {state}" for state, n in counter.most_common()) or "none"


class Progress:
    """One stderr line, rewritten in place (only on a terminal, at most ten times a second)."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._last = 0.0
        self._width = 0

    def update(self, phase: Phase, done: int, started: float, *, force: bool = False) -> None:
        errors = sum(phase.errors.values())
        self.show(phase.name, phase.devices, done, phase.requests, errors, started, force=force)

    def show(
        self,
        name: str,
        devices: int,
        done: int,
        requests: int,
        errors: int,
        started: float,
        *,
        force: bool = False,
    ) -> None:
        """``done`` of ``devices`` through the round, ``requests`` answered since ``started``."""
        now = time.monotonic()
        if not self.enabled or (not force and now - self._last < 0.1):
            return
        self._last = now
        width = 24
        filled = width * done // max(1, devices)
        elapsed = max(1e-9, now - started)
        text = (
            f"{name:<12} [{'#' * filled}{'.' * (width - filled)}] {done}/{devices}"
            f"  {requests / elapsed:.0f} req/s  errors {errors}"
        )
        self.stream.write("\r" + text.ljust(self._width))
        self._width = len(text)
        self.stream.flush()

    def finish(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
            self._width = 0
