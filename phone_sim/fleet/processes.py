"""The fleet's phones spread over several processes (``phone-sim fleet --processes P``).

One interpreter drives about 600 round trips a second: every one signs, builds the request
through ``requests``, verifies the vendor's signature and judges the verdict, all in Python
under one lock. A server faster than that would be measured at the fleet's speed, not its own.
With ``P`` processes each takes a share of the devices and of the concurrency, and runs the same
rounds (``rounds.py``) on its own threads; the parent tells every process when a round starts
(and how far the server's clock moved before it), gathers each round's figures into one phase,
and shows one progress line from counters the processes update.

Processes are spawned, not forked (the parent may be running threads), so each starts in about
half a second: worth it for large fleets only. Device identities do not cross the pipe: each
process reads its share from the identity cache (or, without one, gets its share's cache lines)
and builds its phones on the world's clock, which it opens from where that time lives (a
:class:`~phone_sim.world.clocks.ClockSource`): no message ever carries a time. The parent
keeps no device: at the end it needs only each phone's SIM and final state, which the processes
report.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
import signal
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from phone_sim.device.phone import Phone
from phone_sim.protocol.contact import ContactKind
from phone_sim.world.clocks import AdminClock, ClockSource
from server_stub.runtime.heap import set_up_then_settled
from server_stub.runtime.usage import peak_rss_kib

from .errors import FleetError
from .kits import IdentitySource
from .mix import SimChoice
from .report import Phase, Progress
from .rounds import Exchanger, Finish, FleetDevice, LocalRounds

if TYPE_CHECKING:  # the phones' processes import this module: not the server's stack
    from .server import FleetServer

#: the per-process progress counters: devices done, requests answered, errors
_DONE, _REQUESTS, _ERRORS, _COUNTERS = 0, 1, 2, 3
#: seconds a phone process may take to start and build its phones
START_TIMEOUT = 120


@dataclass(frozen=True)
class _Job:
    """Everything one phone process needs (picklable)."""

    index: int
    #: where its workers post, taken in turn (the server's processes' own ports, or its URL)
    urls: tuple[str, ...]
    vendor_key: bytes
    clock: ClockSource
    #: this process's share of the devices, and the SIM of each
    identities: IdentitySource
    sims: list[SimChoice]
    concurrency: int
    timeout: float


@dataclass(frozen=True)
class _Ready:
    """A phone process to the parent: its phones are built."""


@dataclass(frozen=True)
class _Round:
    """The parent to a phone process: run one round."""

    kind: ContactKind
    #: the world's time moved since the last round (a check-in falls due by itself)
    moved: bool


@dataclass(frozen=True)
class _RoundDone:
    """A phone process to the parent: what its round measured."""

    latencies: list[float]
    errors: Counter[str]
    verdicts: Counter[str]


@dataclass(frozen=True)
class _Finish:
    """The parent to a phone process: report and end."""


@dataclass(frozen=True)
class _Finished:
    finish: Finish


@dataclass(frozen=True)
class _Failed:
    """A phone process to the parent, last: why it ended."""

    text: str


_Reply = _Ready | _RoundDone | _Finished | _Failed
_R = TypeVar("_R", _Ready, _RoundDone, _Finished)


class _Counters(Progress):
    """A phone process's progress: written to shared counters the parent reads."""

    def __init__(self, counters: Any, index: int) -> None:
        super().__init__(enabled=False)
        self.counters, self.base = counters, index * _COUNTERS

    def update(self, phase: Phase, done: int, started: float, *, force: bool = False) -> None:
        self.counters[self.base + _DONE] = done
        self.counters[self.base + _REQUESTS] = phase.requests
        self.counters[self.base + _ERRORS] = sum(phase.errors.values())


def _child_main(conn: Connection, job: _Job, counters: Any) -> None:
    """A phone process: build the phones, then run each round the parent asks for."""
    # Ctrl-C is the parent's to handle: it closes the pipes, and this process ends with them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        # Its phones, built while nothing collects; once built, running them is all this
        # process does (docs/decisions/collector-settled-in-serving-processes.md).
        with set_up_then_settled():
            clock = job.clock.open()
            devices = [
                FleetDevice(
                    kit, sim, Phone(kit.identity, kit.certificates, clock=clock, exchange_memory=0)
                )
                for kit, sim in zip(job.identities.kits(), job.sims, strict=True)
            ]
        vendor_key = ed25519.Ed25519PublicKey.from_public_bytes(job.vendor_key)
        rounds = LocalRounds(
            devices,
            Exchanger(vendor_key, job.timeout),
            job.concurrency,
            _Counters(counters, job.index),
            job.urls,
        )
        conn.send(_Ready())
        while True:
            try:
                message = conn.recv()
            except EOFError:  # the parent has gone: nothing left to report to
                return
            if isinstance(message, _Round):
                if isinstance(clock, AdminClock):
                    # The parent moved the server's time before this round: read it now, not
                    # at the clock's next refresh (a shared file is read at every reading).
                    clock.refresh()
                phase = Phase(message.kind, len(devices))
                rounds.run(phase, message.kind, message.moved)
                conn.send(_RoundDone(phase.latencies, phase.errors, phase.verdicts))
            else:  # _Finish
                rounds.close()
                conn.send(_Finished(rounds.finish()))
                return
    except BaseException as exc:  # the parent reports it; this process only ends
        # A fleet error (the identity cache changed under the run) says what is wrong in a line.
        text = str(exc) if isinstance(exc, FleetError) else traceback.format_exc()
        with contextlib.suppress(OSError):  # unless the parent has gone already
            conn.send(_Failed(text))


def spread(processes: int, devices: int, concurrency: int) -> int:
    """Processes the phones actually run in: never more than devices or requests in flight."""
    return max(1, min(processes, devices, concurrency))


class PhoneProcesses:
    """``processes`` phone processes, driven round by round like :class:`LocalRounds`."""

    def __init__(
        self,
        processes: int,
        identities: IdentitySource,
        sims: list[SimChoice],
        server: FleetServer,
        concurrency: int,
        timeout: float,
        progress: Progress,
    ) -> None:
        self.processes = spread(processes, identities.count, concurrency)
        self.progress = progress
        self._devices = identities.count
        context = multiprocessing.get_context("spawn")
        self._counters = context.Array("q", self.processes * _COUNTERS, lock=False)
        vendor_key = server.vendor_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._conns: list[Connection] = []
        self._workers: list[Any] = []
        try:
            for index in range(self.processes):
                job = _Job(
                    index=index,
                    urls=server.contact_urls,
                    vendor_key=vendor_key,
                    clock=server.clock_source,
                    identities=identities.share(index, self.processes),
                    sims=sims[index :: self.processes],
                    # The concurrency is shared out: C requests in flight in all, not per process.
                    concurrency=max(1, (concurrency + index) // self.processes),
                    timeout=timeout,
                )
                parent, child = context.Pipe()
                worker = context.Process(
                    target=_child_main, args=(child, job, self._counters), daemon=True
                )
                worker.start()
                child.close()
                self._conns.append(parent)
                self._workers.append(worker)
            for index in range(self.processes):
                if not self._conns[index].poll(START_TIMEOUT):
                    raise FleetError(f"phone process {index + 1} did not start")
                self._receive(index, _Ready)
        except BaseException:
            self.close()
            raise

    def run(self, phase: Phase, kind: ContactKind, moved: bool) -> None:
        for index in range(self.processes * _COUNTERS):
            self._counters[index] = 0
        started = time.monotonic()
        for index in range(self.processes):
            self._send(index, _Round(kind, moved))
        pending = set(range(self.processes))
        while pending:
            for index in sorted(pending):
                if self._conns[index].poll(0.1 / self.processes):
                    done = self._receive(index, _RoundDone)
                    phase.latencies += done.latencies
                    phase.errors.update(done.errors)
                    phase.verdicts.update(done.verdicts)
                    pending.discard(index)
            self._show(phase, started)
        phase.seconds = time.monotonic() - started
        self._show(phase, started, force=True)
        self.progress.finish()

    def finish(self) -> Finish:
        own = resource.getrusage(resource.RUSAGE_SELF)
        states: list[tuple[str, str]] = []
        cpu, rss = own.ru_utime + own.ru_stime, peak_rss_kib()
        for index in range(self.processes):
            self._send(index, _Finish())
            finish = self._receive(index, _Finished).finish
            states += finish.states
            cpu += finish.cpu_seconds
            rss += finish.peak_rss_kib
        return Finish(states=states, cpu_seconds=cpu, peak_rss_kib=rss)

    def close(self) -> None:
        # A process waiting for its next round ends when its pipe closes.
        for conn in self._conns:
            conn.close()
        for worker in self._workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
                worker.join()

    def _send(self, index: int, message: _Round | _Finish) -> None:
        try:
            self._conns[index].send(message)
        except OSError:  # its end of the pipe is gone
            raise self._ended(index) from None

    def _receive(self, index: int, expected: type[_R]) -> _R:
        try:
            message: _Reply = self._conns[index].recv()
        except (EOFError, OSError):
            raise self._ended(index) from None
        if isinstance(message, _Failed):
            # A traceback on lines of its own; a fleet error's one line after the colon.
            separator = "\n" if "\n" in message.text else " "
            raise FleetError(f"phone process {index + 1} failed:{separator}{message.text}")
        if not isinstance(message, expected):
            raise FleetError(
                f"phone process {index + 1} said {type(message).__name__}, not {expected.__name__}"
            )
        return message

    def _ended(self, index: int) -> FleetError:
        worker = self._workers[index]
        worker.join(timeout=1)
        return FleetError(f"phone process {index + 1} ended (exit code {worker.exitcode})")

    def _show(self, phase: Phase, started: float, *, force: bool = False) -> None:
        done, requests, errors = (
            sum(self._counters[i * _COUNTERS + field] for i in range(self.processes))
            for field in (_DONE, _REQUESTS, _ERRORS)
        )
        self.progress.show(phase.name, self._devices, done, requests, errors, started, force=force)
